import type { RecordedEvent } from '@chronicle/domain';
import type { ProjectionDefinition } from '../runner/projection.js';
import { entityOfStream } from './entity.js';
import { summarise } from './summary.js';

/** One row per event of the log: who did what to which entity, when, and in which request. */
export const auditLogProjection: ProjectionDefinition = {
  name: 'audit-log.v1',
  tables: ['rm_audit_log'],
  open(db) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS rm_audit_log (
        position INTEGER PRIMARY KEY, stream TEXT NOT NULL, entity_kind TEXT NOT NULL, entity_id TEXT NOT NULL,
        type TEXT NOT NULL, actor TEXT NOT NULL, recorded_at INTEGER NOT NULL, correlation_id TEXT NOT NULL,
        causation_id TEXT, summary TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS rm_audit_log_stream ON rm_audit_log (stream, position);
      CREATE INDEX IF NOT EXISTS rm_audit_log_actor ON rm_audit_log (actor, position);
      CREATE INDEX IF NOT EXISTS rm_audit_log_kind ON rm_audit_log (entity_kind, position);
      CREATE INDEX IF NOT EXISTS rm_audit_log_type ON rm_audit_log (type, position);
      CREATE INDEX IF NOT EXISTS rm_audit_log_time ON rm_audit_log (recorded_at);`);
    const insert = db.prepare(
      'INSERT INTO rm_audit_log (position, stream, entity_kind, entity_id, type, actor, recorded_at, correlation_id, causation_id, summary) VALUES (?,?,?,?,?,?,?,?,?,?)',
    );
    return {
      apply(e: RecordedEvent) {
        const { kind, id } = entityOfStream(e.stream);
        insert.run(e.position, e.stream, kind, id, e.type, e.actor, e.recordedAt, e.correlationId, e.causationId, summarise(e));
      },
    };
  },
};

import type { PromotionEvent, RecordedEvent } from '@chronicle/domain';
import { PROMOTION_EVENT_TYPES } from '@chronicle/domain';
import type { ProjectionDefinition } from '../runner/projection.js';

/** Gate configurations (every version), approvals, and refused and passed promotions. */
export const promotionProjection: ProjectionDefinition = {
  name: 'promotion.v1',
  tables: ['rm_promotion_gates', 'rm_model_approvals', 'rm_promotion_decisions'],
  open(db) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS rm_promotion_gates (
        name TEXT NOT NULL, target TEXT NOT NULL, version INTEGER NOT NULL, config TEXT NOT NULL,
        set_at INTEGER NOT NULL, set_by TEXT NOT NULL, PRIMARY KEY (name, target, version)
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS rm_model_approvals (
        name TEXT NOT NULL, version INTEGER NOT NULL, target TEXT NOT NULL, username TEXT NOT NULL, role TEXT NOT NULL,
        comment TEXT NOT NULL, at INTEGER NOT NULL, position INTEGER NOT NULL, PRIMARY KEY (name, version, target, username)
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS rm_promotion_decisions (
        position INTEGER PRIMARY KEY, name TEXT NOT NULL, version INTEGER NOT NULL, target TEXT NOT NULL, passed INTEGER NOT NULL,
        actor TEXT NOT NULL, gates_version INTEGER NOT NULL, holder_version INTEGER, checks TEXT NOT NULL, at INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS rm_promotion_decisions_model ON rm_promotion_decisions (name, passed, position);`);
    const insertGates = db.prepare('INSERT INTO rm_promotion_gates (name, target, version, config, set_at, set_by) VALUES (?, ?, ?, ?, ?, ?)');
    const insertApproval = db.prepare(
      'INSERT OR IGNORE INTO rm_model_approvals (name, version, target, username, role, comment, at, position) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const insertDecision = db.prepare(
      'INSERT INTO rm_promotion_decisions (position, name, version, target, passed, actor, gates_version, holder_version, checks, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    return {
      apply(e: RecordedEvent) {
        if (!PROMOTION_EVENT_TYPES.has(e.type)) return;
        const ev = e as unknown as PromotionEvent;
        switch (ev.type) {
          case 'PromotionGatesSet': {
            const d = ev.data;
            const config = { metricRules: d.metricRules, requiredInputs: d.requiredInputs, approval: d.approval };
            insertGates.run(d.name, d.target, d.version, JSON.stringify(config), e.recordedAt, e.actor);
            return;
          }
          case 'ModelVersionApproved': {
            const d = ev.data;
            insertApproval.run(d.name, d.version, d.target, d.username, d.role, d.comment, e.recordedAt, e.position);
            return;
          }
          case 'ModelPromotionRefused': {
            const d = ev.data;
            insertDecision.run(e.position, d.name, d.version, d.target, 0, d.actor, d.gatesVersion, d.holderVersion, JSON.stringify(d.failures), e.recordedAt);
            return;
          }
          case 'ModelPromotionGatesPassed': {
            const d = ev.data;
            insertDecision.run(e.position, d.name, d.version, d.target, 1, e.actor, d.gatesVersion, d.holderVersion, JSON.stringify(d.checks), e.recordedAt);
            return;
          }
        }
      },
    };
  },
};

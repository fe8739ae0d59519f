import type { DatasetVersionCommitted, ModelVersionCreated, RecordedEvent, RunLineageEvent } from '@chronicle/domain';
import type { ProjectionDefinition } from '../runner/projection.js';
import { datasetVersionNode, deploymentNode, modelVersionNode, runNode } from './nodes.js';

/** The part of a deployment request lineage needs; deployments live in their own capability. */
interface DeploymentRequestedData {
  environment: string;
  deploymentId: string;
  model: string;
  version: number;
}

const LINEAGE_EVENTS = new Set<string>([
  'DatasetVersionCommitted',
  'RunInputsDeclared',
  'RunOutputsDeclared',
  'ModelVersionCreated',
  'DeploymentRequested',
]);

/**
 * The data-to-deployment graph as one adjacency table, indexed both ways: `lineage` walks it
 * backwards from a node, `impact` forwards, each a recursive query over an index.
 * Edges point the way data flows: parent version → child, dataset version → run (input),
 * run → dataset version (output), run → model version, model version → deployment.
 */
export const lineageProjection: ProjectionDefinition = {
  name: 'lineage.v2',
  tables: ['rm_lineage_nodes', 'rm_lineage_edges', 'rm_run_inputs', 'rm_run_outputs'],
  open(db) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS rm_lineage_nodes (
        node TEXT PRIMARY KEY, kind TEXT NOT NULL, label TEXT NOT NULL, created_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS rm_lineage_edges (
        src TEXT NOT NULL, dst TEXT NOT NULL, relation TEXT NOT NULL, role TEXT NOT NULL,
        PRIMARY KEY (src, dst, relation, role)
      ) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS rm_lineage_edges_dst ON rm_lineage_edges (dst, src);
      CREATE TABLE IF NOT EXISTS rm_run_inputs (
        run_id TEXT NOT NULL, version_id TEXT NOT NULL, role TEXT NOT NULL, dataset_name TEXT NOT NULL,
        version_number INTEGER NOT NULL, position INTEGER NOT NULL, ordinal INTEGER NOT NULL,
        PRIMARY KEY (run_id, version_id, role)
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS rm_run_outputs (
        run_id TEXT NOT NULL, version_id TEXT NOT NULL, dataset_name TEXT NOT NULL, version_number INTEGER NOT NULL,
        position INTEGER NOT NULL, ordinal INTEGER NOT NULL,
        PRIMARY KEY (run_id, version_id)
      ) WITHOUT ROWID;`);
    const node = db.prepare('INSERT OR IGNORE INTO rm_lineage_nodes (node, kind, label, created_at) VALUES (?, ?, ?, ?)');
    const edge = db.prepare('INSERT OR IGNORE INTO rm_lineage_edges (src, dst, relation, role) VALUES (?, ?, ?, ?)');
    const input = db.prepare(
      'INSERT OR IGNORE INTO rm_run_inputs (run_id, version_id, role, dataset_name, version_number, position, ordinal) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    const output = db.prepare(
      'INSERT OR IGNORE INTO rm_run_outputs (run_id, version_id, dataset_name, version_number, position, ordinal) VALUES (?, ?, ?, ?, ?, ?)',
    );
    const runAt = (runId: string, at: number) => {
      node.run(runNode(runId), 'run', runId, at);
      return runNode(runId);
    };
    return {
      apply(e: RecordedEvent) {
        if (!LINEAGE_EVENTS.has(e.type)) return;
        const at = e.recordedAt;
        if (e.type === 'DatasetVersionCommitted') {
          const d = (e as unknown as DatasetVersionCommitted).data;
          const id = datasetVersionNode(d.versionId);
          node.run(id, 'dataset_version', d.versionId, at);
          if (d.parentVersion !== null) edge.run(datasetVersionNode(`${d.name}@${d.parentVersion}`), id, 'parent', '');
        } else if (e.type === 'ModelVersionCreated') {
          const d = (e as unknown as ModelVersionCreated).data;
          const id = modelVersionNode(d.name, d.version);
          node.run(id, 'model_version', `${d.name}/${d.version}`, at);
          edge.run(runAt(d.runId, at), id, 'produced', '');
        } else if (e.type === 'DeploymentRequested') {
          const d = e.data as DeploymentRequestedData;
          const id = deploymentNode(d.deploymentId);
          node.run(id, 'deployment', `${d.environment}:${d.deploymentId}`, at);
          edge.run(modelVersionNode(d.model, d.version), id, 'deployed', '');
        } else {
          const ev = e as unknown as RunLineageEvent;
          const run = runAt(ev.data.runId, at);
          if (ev.type === 'RunInputsDeclared')
            ev.data.inputs.forEach((i, ordinal) => {
              input.run(ev.data.runId, i.versionId, i.role, i.datasetName, i.versionNumber, e.position, ordinal);
              edge.run(datasetVersionNode(i.versionId), run, 'input', i.role);
            });
          else
            ev.data.outputs.forEach((o, ordinal) => {
              output.run(ev.data.runId, o.versionId, o.datasetName, o.versionNumber, e.position, ordinal);
              edge.run(run, datasetVersionNode(o.versionId), 'output', '');
            });
        }
      },
    };
  },
};

import { ValidationFailed } from '@chronicle/domain';
import type { SqliteDatabase } from '@chronicle/event-store';
import { parseLineageNode, type LineageNodeKind } from './nodes.js';

export interface RunInputView {
  datasetName: string;
  versionId: string;
  versionNumber: number;
  role: string;
}

export interface RunOutputView {
  datasetName: string;
  versionId: string;
  versionNumber: number;
}

export interface LineageNodeView {
  node: string;
  kind: LineageNodeKind;
  /** The id within its kind: a run id, `dataset@3`, `model/2`, a deployment id. */
  id: string;
  /** Hops from the node the walk started at. */
  depth: number;
}

export interface LineageEdgeView {
  from: string;
  to: string;
  relation: string;
  /** An input's role (train, validation, test, other); empty for other relations. */
  role: string;
}

export interface LineageGraphView {
  root: string;
  nodes: LineageNodeView[];
  edges: LineageEdgeView[];
}

// Deep enough for any real pipeline; bounds the walk should a bug ever create a cycle.
const MAX_DEPTH = 100;

function walk(db: SqliteDatabase, direction: 'backward' | 'forward') {
  // Backward follows edges into a node (what it came from); forward, edges out of it (what used it).
  const [near, far] = direction === 'backward' ? ['dst', 'src'] : ['src', 'dst'];
  const reach = db.prepare<{ root: string; max: number }, { node: string; depth: number }>(`
    WITH RECURSIVE reached(node, depth) AS (
      SELECT @root, 0
      UNION
      SELECT e.${far}, r.depth + 1 FROM rm_lineage_edges e JOIN reached r ON e.${near} = r.node WHERE r.depth < @max
    )
    SELECT node, min(depth) AS depth FROM reached GROUP BY node ORDER BY depth, node`);
  const edges = db.prepare<{ root: string; max: number }, LineageEdgeView>(`
    WITH RECURSIVE reached(node, depth) AS (
      SELECT @root, 0
      UNION
      SELECT e.${far}, r.depth + 1 FROM rm_lineage_edges e JOIN reached r ON e.${near} = r.node WHERE r.depth < @max
    ), nodes AS (SELECT DISTINCT node FROM reached)
    SELECT e.src AS "from", e.dst AS "to", e.relation, e.role FROM rm_lineage_edges e JOIN nodes n ON e.${near} = n.node
    ORDER BY e.src, e.dst, e.relation, e.role`);
  return (root: string): LineageGraphView => {
    if (!parseLineageNode(root))
      throw new ValidationFailed('a lineage node is dataset_version:<dataset>@<n>, run:<id>, model_version:<model>/<n> or deployment:<id>', {
        field: 'node',
        node: root,
      });
    const nodes = reach.all({ root, max: MAX_DEPTH }).map((r) => ({ ...r, ...parseLineageNode(r.node)! }));
    return { root, nodes, edges: edges.all({ root, max: MAX_DEPTH }) };
  };
}

export function lineageQueries(db: SqliteDatabase) {
  const inputs = db.prepare<[string], RunInputView>(
    'SELECT dataset_name AS datasetName, version_id AS versionId, version_number AS versionNumber, role FROM rm_run_inputs WHERE run_id = ? ORDER BY position, ordinal',
  );
  const outputs = db.prepare<[string], RunOutputView>(
    'SELECT dataset_name AS datasetName, version_id AS versionId, version_number AS versionNumber FROM rm_run_outputs WHERE run_id = ? ORDER BY position, ordinal',
  );
  const exists = db.prepare<[string], { node: string }>('SELECT node FROM rm_lineage_nodes WHERE node = ?');
  return {
    runInputs: (runId: string) => inputs.all(runId),
    runOutputs: (runId: string) => outputs.all(runId),
    hasNode: (node: string) => exists.get(node) !== undefined,
    /** Everything `node` was made from, transitively: runs, code, data and their parents. */
    lineage: walk(db, 'backward'),
    /** Everything made from `node`, transitively: runs, derived data, model versions, deployments. */
    impact: walk(db, 'forward'),
  };
}

/** Node ids of the lineage graph: `<kind>:<id>`, the same strings the GraphQL `lineage(node)` takes. */
export const LINEAGE_NODE_KINDS = ['dataset_version', 'run', 'model_version', 'deployment'] as const;
export type LineageNodeKind = (typeof LINEAGE_NODE_KINDS)[number];

export const datasetVersionNode = (versionId: string) => `dataset_version:${versionId}`;
export const runNode = (runId: string) => `run:${runId}`;
export const modelVersionNode = (model: string, version: number) => `model_version:${model}/${version}`;
export const deploymentNode = (deploymentId: string) => `deployment:${deploymentId}`;

export function parseLineageNode(node: string): { kind: LineageNodeKind; id: string } | null {
  const colon = node.indexOf(':');
  const kind = node.slice(0, colon);
  return colon > 0 && (LINEAGE_NODE_KINDS as readonly string[]).includes(kind) ? { kind: kind as LineageNodeKind, id: node.slice(colon + 1) } : null;
}

import type { RecordedEvent, RunLineageEvent } from '@chronicle/domain';

export interface DeclaredInput {
  datasetName: string;
  versionId: string;
  versionNumber: number;
  role: string;
  declaredBy: string;
  declaredAt: number;
  declaredPosition: number;
}

/** The dataset versions a run declared it read, in declaration order, from its `runio-` stream. */
export function foldRunInputs(events: readonly RecordedEvent[]): DeclaredInput[] {
  const inputs: DeclaredInput[] = [];
  for (const e of events) {
    const ev = e as unknown as RunLineageEvent;
    if (ev.type !== 'RunInputsDeclared') continue;
    for (const i of ev.data.inputs)
      inputs.push({ datasetName: i.datasetName, versionId: i.versionId, versionNumber: i.versionNumber, role: i.role, declaredBy: e.actor, declaredAt: e.recordedAt, declaredPosition: e.position });
  }
  return inputs;
}

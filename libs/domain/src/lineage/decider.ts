import { assertNever, IllegalTransition, NotFound, ValidationFailed } from '../errors.js';
import type { Decider } from '../shared/decider.js';
import type { DatasetVersionFact, RunFact, RunLineageCommand } from './commands.js';
import { INPUT_ROLES, type InputRole, type RunLineageEvent } from './events.js';

export interface RunLineage {
  /** `<versionId>|<role>`: the same version may be declared in two roles (train and test), never twice in one. */
  inputs: Record<string, true>;
  outputs: Record<string, true>;
}

export const initialRunLineage = (): RunLineage => ({ inputs: {}, outputs: {} });

const MAX_DECLARED = 1_000;

export function isInputRole(role: unknown): role is InputRole {
  return typeof role === 'string' && (INPUT_ROLES as readonly string[]).includes(role);
}

function requireRun(run: RunFact, runId: string): void {
  if (run === null) throw new NotFound(`run ${runId} does not exist`, { runId });
  if (run.deleted) throw new IllegalTransition(`run ${runId} is deleted; restore it first`, { runId });
}

function checkDeclared(list: readonly DatasetVersionFact[], what: string): void {
  if (list.length === 0) throw new ValidationFailed(`declare at least one ${what}`, { field: `${what}s` });
  if (list.length > MAX_DECLARED) throw new ValidationFailed(`at most ${MAX_DECLARED} ${what}s per call`, { field: `${what}s` });
}

const key = (versionId: string, role: string) => `${versionId}|${role}`;

export function decideRunLineage(cmd: RunLineageCommand, state: RunLineage): RunLineageEvent[] {
  switch (cmd.type) {
    case 'DeclareRunInputs': {
      const d = cmd.data;
      requireRun(d.run, d.runId);
      checkDeclared(d.inputs, 'input');
      const seen = new Set<string>();
      const inputs = [];
      for (const i of d.inputs) {
        if (!isInputRole(i.role))
          throw new ValidationFailed(`role must be one of ${INPUT_ROLES.join(', ')}`, { field: 'role', role: i.role });
        // Training on data already known to be bad is the mistake lineage exists to prevent.
        if (i.deprecated)
          throw new IllegalTransition(`dataset version ${i.versionId} is deprecated and cannot be a new run's input`, {
            versionId: i.versionId,
          });
        const k = key(i.versionId, i.role);
        if (state.inputs[k] || seen.has(k)) continue;
        seen.add(k);
        inputs.push({ datasetName: i.datasetName, versionId: i.versionId, versionNumber: i.versionNumber, role: i.role });
      }
      return inputs.length === 0 ? [] : [{ type: 'RunInputsDeclared', data: { runId: d.runId, inputs, at: d.at } }];
    }
    case 'DeclareRunOutputs': {
      const d = cmd.data;
      requireRun(d.run, d.runId);
      checkDeclared(d.outputs, 'output');
      const seen = new Set<string>();
      const outputs = [];
      for (const o of d.outputs) {
        if (state.outputs[o.versionId] || seen.has(o.versionId)) continue;
        seen.add(o.versionId);
        outputs.push({ datasetName: o.datasetName, versionId: o.versionId, versionNumber: o.versionNumber });
      }
      return outputs.length === 0 ? [] : [{ type: 'RunOutputsDeclared', data: { runId: d.runId, outputs, at: d.at } }];
    }
    default:
      return assertNever(cmd);
  }
}

export function evolveRunLineage(state: RunLineage, ev: RunLineageEvent): RunLineage {
  switch (ev.type) {
    case 'RunInputsDeclared': {
      const inputs = { ...state.inputs };
      for (const i of ev.data.inputs) inputs[key(i.versionId, i.role)] = true;
      return { ...state, inputs };
    }
    case 'RunOutputsDeclared': {
      const outputs = { ...state.outputs };
      for (const o of ev.data.outputs) outputs[o.versionId] = true;
      return { ...state, outputs };
    }
    default:
      return assertNever(ev);
  }
}

export const runLineageDecider: Decider<RunLineage, RunLineageCommand, RunLineageEvent> = {
  decide: decideRunLineage,
  evolve: evolveRunLineage,
  initialState: initialRunLineage,
};

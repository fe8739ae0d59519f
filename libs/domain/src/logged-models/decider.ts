import { assertNever, ConcurrencyConflict, IllegalTransition, NotFound, ValidationFailed } from '../errors.js';
import { validateTags } from '../experiments/decider.js';
import type { Decider } from '../shared/decider.js';
import { MAX_NAME_LENGTH, MAX_PARAM_VALUE_LENGTH, validateKey, validateText, type KeyValue } from '../shared/validation.js';
import type { LoggedModelCommand } from './commands.js';
import { LOGGED_MODEL_STATUSES, type LoggedModelEvent, type LoggedModelStatus } from './events.js';

export interface LoggedModel {
  modelId: string;
  status: LoggedModelStatus | 'none';
  deleted: boolean;
  params: Record<string, string>;
  /** Run and step of each output declaration, so a repeated one records nothing. */
  outputs: string[];
}

export const initialLoggedModel = (): LoggedModel => ({ modelId: '', status: 'none', deleted: false, params: {}, outputs: [] });

// MLflow's ids: `m-` and 32 hex digits.
const MODEL_ID = /^m-[0-9a-f]{32}$/;

function requireLive(m: LoggedModel, modelId: string): void {
  if (m.status === 'none' || m.deleted) throw new NotFound(`Logged model with ID '${modelId}' not found`, { modelId });
}

function validateParams(params: readonly KeyValue[], current: Record<string, string>): KeyValue[] {
  const seen = new Map<string, string>();
  for (const p of params) {
    const key = validateKey('param', p.key);
    const value = validateText(`param "${key}" value`, p.value, MAX_PARAM_VALUE_LENGTH, { allowEmpty: true });
    // Params are facts about how the model was made: once logged, a value never changes.
    const old = current[key] ?? seen.get(key);
    if (old !== undefined && old !== value)
      throw new ValidationFailed(`param "${key}" is already logged with value "${old}"; params cannot change`, { field: 'params', key });
    seen.set(key, value);
  }
  return [...seen].filter(([k]) => current[k] === undefined).map(([key, value]) => ({ key, value }));
}

export function decideLoggedModel(cmd: LoggedModelCommand, m: LoggedModel): LoggedModelEvent[] {
  switch (cmd.type) {
    case 'CreateLoggedModel': {
      const d = cmd.data;
      if (!MODEL_ID.test(d.modelId)) throw new ValidationFailed('a logged model id is m- and 32 hex digits', { field: 'modelId' });
      if (m.status !== 'none') throw new ConcurrencyConflict(`logged model ${d.modelId} already exists`, { modelId: d.modelId });
      return [
        {
          type: 'LoggedModelCreated',
          data: {
            modelId: d.modelId,
            experimentId: d.experimentId,
            name: validateText('name', d.name, MAX_NAME_LENGTH),
            modelType: validateText('model_type', d.modelType, MAX_NAME_LENGTH, { allowEmpty: true }),
            sourceRunId: d.sourceRunId,
            filesRunId: d.filesRunId,
            artifactPath: d.artifactPath,
            params: validateParams(d.params, {}),
            tags: validateTags('tag', d.tags),
            at: d.at,
          },
        },
      ];
    }
    case 'FinalizeLoggedModel': {
      const d = cmd.data;
      requireLive(m, d.modelId);
      if (!(LOGGED_MODEL_STATUSES as readonly string[]).includes(d.status) || d.status === 'PENDING')
        throw new ValidationFailed('a logged model is finalized as READY or FAILED', { field: 'status' });
      if (m.status === d.status) return [];
      if (m.status !== 'PENDING')
        throw new IllegalTransition(`logged model ${d.modelId} is already ${m.status}`, { modelId: d.modelId, status: m.status });
      return [{ type: 'LoggedModelFinalized', data: { modelId: d.modelId, status: d.status, at: d.at } }];
    }
    case 'SetLoggedModelTags': {
      const d = cmd.data;
      requireLive(m, d.modelId);
      const tags = validateTags('tag', d.tags);
      return tags.length === 0 ? [] : [{ type: 'LoggedModelTagsSet', data: { modelId: d.modelId, tags, at: d.at } }];
    }
    case 'DeleteLoggedModelTag': {
      const d = cmd.data;
      requireLive(m, d.modelId);
      return [{ type: 'LoggedModelTagDeleted', data: { modelId: d.modelId, key: validateKey('tag', d.key), at: d.at } }];
    }
    case 'LogLoggedModelParams': {
      const d = cmd.data;
      requireLive(m, d.modelId);
      const params = validateParams(d.params, m.params);
      return params.length === 0 ? [] : [{ type: 'LoggedModelParamsLogged', data: { modelId: d.modelId, params, at: d.at } }];
    }
    case 'LogLoggedModelOutput': {
      const d = cmd.data;
      requireLive(m, d.modelId);
      if (!Number.isSafeInteger(d.step)) throw new ValidationFailed('step must be an integer', { field: 'step' });
      if (m.outputs.includes(`${d.runId}@${d.step}`)) return [];
      return [{ type: 'LoggedModelOutputLogged', data: { modelId: d.modelId, runId: d.runId, step: d.step, at: d.at } }];
    }
    case 'DeleteLoggedModel': {
      const d = cmd.data;
      requireLive(m, d.modelId);
      return [{ type: 'LoggedModelDeleted', data: { modelId: d.modelId, at: d.at } }];
    }
    default:
      return assertNever(cmd);
  }
}

export function evolveLoggedModel(m: LoggedModel, ev: LoggedModelEvent): LoggedModel {
  switch (ev.type) {
    case 'LoggedModelCreated':
      return { ...initialLoggedModel(), modelId: ev.data.modelId, status: 'PENDING', params: Object.fromEntries(ev.data.params.map((p) => [p.key, p.value])) };
    case 'LoggedModelFinalized':
      return { ...m, status: ev.data.status };
    case 'LoggedModelParamsLogged':
      return { ...m, params: { ...m.params, ...Object.fromEntries(ev.data.params.map((p) => [p.key, p.value])) } };
    case 'LoggedModelOutputLogged':
      return { ...m, outputs: [...m.outputs, `${ev.data.runId}@${ev.data.step}`] };
    case 'LoggedModelDeleted':
      return { ...m, deleted: true };
    case 'LoggedModelTagsSet':
    case 'LoggedModelTagDeleted':
      return m;
    default:
      return assertNever(ev);
  }
}

export const loggedModelDecider: Decider<LoggedModel, LoggedModelCommand, LoggedModelEvent> = {
  decide: decideLoggedModel,
  evolve: evolveLoggedModel,
  initialState: initialLoggedModel,
};

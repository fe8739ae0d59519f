import { assertNever, ConcurrencyConflict, IllegalTransition, NotFound, ValidationFailed } from '../errors.js';
import { validateTags } from '../experiments/decider.js';
import type { Decider } from '../shared/decider.js';
import { encodeMetricValue } from '../shared/metric-value.js';
import {
  MAX_KEY_LENGTH,
  MAX_NAME_LENGTH,
  MAX_PARAM_VALUE_LENGTH,
  validateKey,
  validateText,
  validateTimestamp,
  type KeyValue,
} from '../shared/validation.js';
import type { ExperimentFact, MetricPointInput, RunCommand, RunDatasetInput } from './commands.js';
import { TERMINAL_STATUSES, type MetricSeriesBatch, type RunEvent, type RunStatus } from './events.js';
import { validateRunSource } from './source.js';

export const MAX_ENVIRONMENT_BYTES = 64 * 1024;

export interface Run {
  runId: string;
  experimentId: string;
  status: RunStatus | 'none';
  deleted: boolean;
  params: Record<string, string>;
  tags: Record<string, string>;
  artifacts: Record<string, { sha256: string; size: number }>;
  /** Set from RunStarted on; a rename compares against it. */
  name?: string;
  /** Dataset inputs logged so far, by datasetInputId. */
  datasets?: Record<string, true>;
  /** Logged models the run declared as inputs. */
  modelInputs?: Record<string, true>;
}

export const initialRun = (): Run => ({
  runId: '',
  experimentId: '',
  status: 'none',
  deleted: false,
  params: {},
  tags: {},
  artifacts: {},
});

function requireRun(run: Run, runId: string): void {
  if (run.status === 'none') throw new NotFound(`run ${runId} does not exist`, { runId });
}

function requireActive(run: Run, what: string): void {
  if (run.deleted) throw new IllegalTransition(`run ${run.runId} is deleted; restore it before ${what}`, { runId: run.runId });
}

function requireActiveExperiment(exp: ExperimentFact, experimentId: string): void {
  if (exp === null) throw new NotFound(`experiment ${experimentId} does not exist`, { experimentId });
  if (exp.status === 'deleted')
    throw new IllegalTransition(`experiment ${experimentId} is deleted; restore it first`, { experimentId });
}

const MAX_STEP = Number.MAX_SAFE_INTEGER;

/** Groups points by key, keeping arrival order inside each key; one series per key and batch. */
export function toSeriesBatches(points: readonly MetricPointInput[], defaultTimestamp: number): MetricSeriesBatch[] {
  const byKey = new Map<string, MetricSeriesBatch>();
  for (let i = 0; i < points.length; i++) {
    const p = points[i]!;
    let s = byKey.get(p.key);
    if (!s) {
      validateKey('metric', p.key);
      s = { key: p.key, steps: [], values: [], timestamps: [] };
      byKey.set(p.key, s);
    }
    if (typeof p.value !== 'number')
      throw new ValidationFailed(`metric "${p.key}" point ${i}: value must be a number, NaN or ±Infinity`, { index: i });
    const step = p.step ?? 0;
    const timestamp = p.timestamp ?? defaultTimestamp;
    if (!Number.isInteger(step) || Math.abs(step) > MAX_STEP)
      throw new ValidationFailed(`metric "${p.key}" point ${i}: step must be an integer`, { index: i });
    if (!Number.isInteger(timestamp) || timestamp < 0)
      throw new ValidationFailed(`metric "${p.key}" point ${i}: timestamp must be a non-negative integer (ms)`, {
        index: i,
      });
    s.steps.push(step);
    s.values.push(encodeMetricValue(p.value));
    s.timestamps.push(timestamp);
  }
  return [...byKey.values()];
}

function uniqueByKey(kind: string, pairs: readonly KeyValue[]): void {
  const seen = new Map<string, string>();
  for (const p of pairs) {
    const prev = seen.get(p.key);
    if (prev !== undefined && prev !== p.value)
      throw new ValidationFailed(`${kind} "${p.key}" is given twice with different values`, { key: p.key });
    seen.set(p.key, p.value);
  }
}

export const MAX_ARTIFACT_PATH_LENGTH = 1024;

/** A path relative to the run's artifact root: no leading `/`, no `..`, no empty or `.` segments. */
export function validateArtifactPath(path: unknown): string {
  const field = 'artifact path';
  if (typeof path !== 'string' || path.length === 0) throw new ValidationFailed(`${field} must be a non-empty string`, { field });
  if (path.length > MAX_ARTIFACT_PATH_LENGTH)
    throw new ValidationFailed(`${field} is longer than ${MAX_ARTIFACT_PATH_LENGTH} characters`, { field });
  if (path.startsWith('/') || path.includes('\\') || /[\u0000-\u001f]/.test(path))
    throw new ValidationFailed(`${field} "${path}" must be relative, with / as separator and no control characters`, { field, path });
  if (path.split('/').some((segment) => segment === '' || segment === '.' || segment === '..'))
    throw new ValidationFailed(`${field} "${path}" must not contain empty, "." or ".." segments`, { field, path });
  return path;
}

/** Params new to the run; the same value again is nothing new, another value is refused. */
function freshParams(run: Run, input: readonly KeyValue[]): KeyValue[] {
  const params = input.map((p) => ({
    key: validateKey('param', p.key),
    value: validateText(`param "${p.key}" value`, p.value, MAX_PARAM_VALUE_LENGTH, { allowEmpty: true }),
  }));
  uniqueByKey('param', params);
  const fresh: KeyValue[] = [];
  for (const p of params) {
    const old = run.params[p.key];
    if (old === undefined) {
      if (!fresh.some((f) => f.key === p.key)) fresh.push(p);
    } else if (old !== p.value)
      // Params describe how a run was made; changing one afterwards would rewrite history.
      throw new ValidationFailed(
        `param "${p.key}" is already "${old}" on run ${run.runId}; params are immutable, log a different key or start a new run`,
        { key: p.key, oldValue: old, newValue: p.value },
      );
  }
  return fresh;
}

/** Tags whose value changes; the last of a key given twice with one value counts once. */
function changedTags(run: Run, input: readonly KeyValue[]): KeyValue[] {
  const tags = validateTags('tag', input);
  uniqueByKey('tag', tags);
  const changed: KeyValue[] = [];
  for (const t of tags) if (run.tags[t.key] !== t.value && !changed.some((c) => c.key === t.key)) changed.push(t);
  return changed;
}

export const MAX_DATASET_FIELD_LENGTH = 64 * 1024;

/** The identity of a dataset input on a run: MLflow logs one (name, digest) once per run. */
export const datasetInputId = (d: { name: string; digest: string }) => `${d.name}\u0000${d.digest}`;

function validateDatasetInput(d: RunDatasetInput, i: number): RunDatasetInput {
  const field = (name: string, value: unknown, max: number, allowEmpty: boolean) =>
    validateText(`dataset ${i} ${name}`, value, max, { allowEmpty });
  return {
    name: field('name', d.name, MAX_NAME_LENGTH, false),
    digest: field('digest', d.digest, MAX_NAME_LENGTH, false),
    sourceType: field('source type', d.sourceType, MAX_NAME_LENGTH, true),
    source: field('source', d.source, MAX_DATASET_FIELD_LENGTH, true),
    schema: field('schema', d.schema, MAX_DATASET_FIELD_LENGTH, true),
    profile: field('profile', d.profile, MAX_DATASET_FIELD_LENGTH, true),
    tags: validateTags('dataset input tag', d.tags),
  };
}

export function decideRun(cmd: RunCommand, run: Run): RunEvent[] {
  switch (cmd.type) {
    case 'StartRun': {
      const d = cmd.data;
      if (run.status !== 'none') throw new ConcurrencyConflict(`run ${d.runId} already exists`, { runId: d.runId });
      requireActiveExperiment(d.experiment, d.experiment?.experimentId ?? '?');
      if (d.parentRunId !== null) {
        if (d.parent === null) throw new NotFound(`parent run ${d.parentRunId} does not exist`, { runId: d.parentRunId });
        if (d.parent.experimentId !== d.experiment!.experimentId)
          throw new ValidationFailed(`parent run ${d.parentRunId} belongs to another experiment`, {
            field: 'parentRunId',
          });
      }
      const reproductionOf = d.reproductionOf ?? null;
      if (reproductionOf !== null) {
        if (reproductionOf === d.runId) throw new ValidationFailed('a run cannot reproduce itself', { field: 'reproductionOf' });
        if (!d.reproduced) throw new NotFound(`run ${reproductionOf} does not exist; there is nothing to reproduce`, { runId: reproductionOf });
      }
      const source = validateRunSource(d.source);
      const name = d.name === '' ? '' : validateText('run name', d.name, MAX_NAME_LENGTH);
      if (JSON.stringify(d.environment).length > MAX_ENVIRONMENT_BYTES)
        throw new ValidationFailed(`run environment is larger than ${MAX_ENVIRONMENT_BYTES} bytes`, {
          field: 'environment',
        });
      const tags = validateTags('tag', d.tags);
      uniqueByKey('tag', tags);
      return [
        {
          type: 'RunStarted',
          data: {
            runId: d.runId,
            experimentId: d.experiment!.experimentId,
            name,
            tags,
            parentRunId: d.parentRunId,
            source,
            environment: d.environment,
            startTime: validateTimestamp('startTime', d.startTime),
            // Only reproductions carry the field, so every other RunStarted keeps its shape.
            ...(reproductionOf !== null ? { reproductionOf } : {}),
          },
        },
      ];
    }
    case 'LogParams': {
      requireRun(run, cmd.data.runId);
      requireActive(run, 'logging params');
      const fresh = freshParams(run, cmd.data.params);
      return fresh.length === 0 ? [] : [{ type: 'RunParamsLogged', data: { runId: run.runId, params: fresh } }];
    }
    case 'LogMetrics': {
      requireRun(run, cmd.data.runId);
      requireActive(run, 'logging metrics');
      if (cmd.data.points.length === 0) return [];
      return [{ type: 'RunMetricsLogged', data: { runId: run.runId, series: toSeriesBatches(cmd.data.points, cmd.data.defaultTimestamp) } }];
    }
    case 'SetRunTags': {
      requireRun(run, cmd.data.runId);
      requireActive(run, 'setting tags');
      const changed = changedTags(run, cmd.data.tags);
      return changed.length === 0 ? [] : [{ type: 'RunTagsSet', data: { runId: run.runId, tags: changed } }];
    }
    case 'DeleteRunTag': {
      requireRun(run, cmd.data.runId);
      requireActive(run, 'deleting tags');
      if (!(cmd.data.key in run.tags))
        throw new NotFound(`run ${run.runId} has no tag "${cmd.data.key}"`, { runId: run.runId, key: cmd.data.key });
      return [{ type: 'RunTagDeleted', data: { runId: run.runId, key: cmd.data.key } }];
    }
    case 'FinishRun': {
      requireRun(run, cmd.data.runId);
      const { status } = cmd.data;
      if (!TERMINAL_STATUSES.includes(status))
        throw new ValidationFailed(`status must be one of ${TERMINAL_STATUSES.join(', ')}`, { field: 'status' });
      if (run.status === status) return [];
      if (run.status !== 'RUNNING')
        throw new IllegalTransition(`run ${run.runId} already ended as ${run.status}`, { runId: run.runId });
      return [
        {
          type: 'RunFinished',
          data: { runId: run.runId, status, endTime: validateTimestamp('endTime', cmd.data.endTime) },
        },
      ];
    }
    case 'DeleteRun':
      requireRun(run, cmd.data.runId);
      return run.deleted ? [] : [{ type: 'RunDeleted', data: cmd.data }];
    case 'RestoreRun':
      requireRun(run, cmd.data.runId);
      return run.deleted ? [{ type: 'RunRestored', data: cmd.data }] : [];
    case 'MoveRun': {
      requireRun(run, cmd.data.runId);
      requireActive(run, 'moving it');
      requireActiveExperiment(cmd.data.target, cmd.data.toExperimentId);
      if (run.experimentId === cmd.data.toExperimentId) return [];
      return [
        {
          type: 'RunMoved',
          data: { runId: run.runId, fromExperimentId: run.experimentId, toExperimentId: cmd.data.toExperimentId },
        },
      ];
    }
    case 'LogBatch': {
      const d = cmd.data;
      requireRun(run, d.runId);
      requireActive(run, 'logging to it');
      // Everything is checked before anything is recorded: one bad item refuses the batch.
      const params = freshParams(run, d.params);
      const tags = changedTags(run, d.tags);
      const name = d.name === undefined || d.name === '' ? undefined : validateText('run name', d.name, MAX_NAME_LENGTH);
      const series = d.points.length === 0 ? [] : toSeriesBatches(d.points, d.defaultTimestamp);
      const events: RunEvent[] = [];
      if (name !== undefined && name !== run.name) events.push({ type: 'RunRenamed', data: { runId: run.runId, name } });
      if (params.length > 0) events.push({ type: 'RunParamsLogged', data: { runId: run.runId, params } });
      if (tags.length > 0) events.push({ type: 'RunTagsSet', data: { runId: run.runId, tags } });
      if (series.length > 0) events.push({ type: 'RunMetricsLogged', data: { runId: run.runId, series } });
      return events;
    }
    case 'LogRunDatasets': {
      requireRun(run, cmd.data.runId);
      requireActive(run, 'logging inputs');
      const seen = new Set<string>();
      const fresh: RunDatasetInput[] = [];
      cmd.data.datasets.forEach((raw, i) => {
        const d = validateDatasetInput(raw, i);
        const id = datasetInputId(d);
        if (run.datasets?.[id] || seen.has(id)) return;
        seen.add(id);
        fresh.push(d);
      });
      const models: string[] = [];
      for (const id of cmd.data.models ?? []) {
        validateText('logged model id', id, MAX_KEY_LENGTH);
        if (!run.modelInputs?.[id] && !models.includes(id)) models.push(id);
      }
      if (fresh.length === 0 && models.length === 0) return [];
      return [{ type: 'RunDatasetsLogged', data: { runId: run.runId, datasets: fresh, ...(models.length ? { models } : {}) } }];
    }
    case 'LogRunArtifact': {
      requireRun(run, cmd.data.runId);
      requireActive(run, 'logging artifacts');
      const { path, sha256, size, contentType } = cmd.data;
      validateArtifactPath(path);
      const old = run.artifacts[path];
      if (old?.sha256 === sha256) return [];
      if (old)
        // A model version may already point at this hash: replacing it would change what was registered.
        throw new ValidationFailed(
          `artifact "${path}" of run ${run.runId} already holds other content (${old.sha256}); artifacts are immutable, upload under another path`,
          { path, sha256: old.sha256 },
        );
      if (!/^[0-9a-f]{64}$/.test(sha256) || !Number.isSafeInteger(size) || size < 0)
        throw new ValidationFailed('an artifact needs a SHA-256 and a size', { path });
      return [{ type: 'RunArtifactLogged', data: { runId: run.runId, path, sha256, size, contentType } }];
    }
    default:
      return assertNever(cmd);
  }
}

export function evolveRun(run: Run, ev: RunEvent): Run {
  switch (ev.type) {
    case 'RunStarted':
      return {
        runId: ev.data.runId,
        experimentId: ev.data.experimentId,
        status: 'RUNNING',
        deleted: false,
        params: {},
        artifacts: {},
        tags: Object.fromEntries(ev.data.tags.map((t) => [t.key, t.value])),
        name: ev.data.name,
      };
    case 'RunParamsLogged': {
      const params = { ...run.params };
      for (const p of ev.data.params) params[p.key] = p.value;
      return { ...run, params };
    }
    case 'RunMetricsLogged':
      // Metric values never constrain a later decision, so the state does not hold them.
      return run;
    case 'RunTagsSet': {
      const tags = { ...run.tags };
      for (const t of ev.data.tags) tags[t.key] = t.value;
      return { ...run, tags };
    }
    case 'RunTagDeleted': {
      const { [ev.data.key]: _gone, ...tags } = run.tags;
      return { ...run, tags };
    }
    case 'RunFinished':
      return { ...run, status: ev.data.status };
    case 'RunDeleted':
      return { ...run, deleted: true };
    case 'RunRestored':
      return { ...run, deleted: false };
    case 'RunMoved':
      return { ...run, experimentId: ev.data.toExperimentId };
    case 'RunRenamed':
      return { ...run, name: ev.data.name };
    case 'RunDatasetsLogged': {
      const datasets = { ...run.datasets };
      for (const d of ev.data.datasets) datasets[datasetInputId(d)] = true;
      if (!ev.data.models) return { ...run, datasets };
      const modelInputs = { ...run.modelInputs };
      for (const id of ev.data.models) modelInputs[id] = true;
      return { ...run, datasets, modelInputs };
    }
    case 'RunArtifactLogged':
      return { ...run, artifacts: { ...run.artifacts, [ev.data.path]: { sha256: ev.data.sha256, size: ev.data.size } } };
    default:
      return assertNever(ev);
  }
}

export const runDecider: Decider<Run, RunCommand, RunEvent> = {
  decide: decideRun,
  evolve: evolveRun,
  initialState: initialRun,
};

import { decodeRun, RUN_FIELDS, type WireRun } from './documents.js';
import { toKeyValues } from './key-values.js';
import { decodeMetricValue, encodeMetricValue } from './metric-value.js';
import type { Transport } from './transport.js';
import type {
  IngestResult,
  KeyValuesInput,
  LifecycleFilter,
  MetricHistory,
  MetricPoint,
  MetricPointInput,
  MetricSeries,
  Run,
  RunPage,
  TerminalStatus,
} from './types.js';
import { asOfVariable, type AsOf, type ReadOptions } from './as-of.js';

export interface RunSearch {
  experimentIds?: string[];
  /** MLflow search syntax plus OR, NOT and parentheses, e.g. `metrics.acc > 0.9 and params.model = 'xgb'`. */
  filter?: string;
  /** Items like `metrics.acc DESC`. */
  orderBy?: string[];
  first?: number;
  /** `pageInfo.endCursor` of the previous page. */
  after?: string;
  lifecycle?: LifecycleFilter;
  /** Search the runs as they stood at this point of the log. */
  asOf?: AsOf;
}

export interface StartRunInput {
  experimentId: string;
  /** Optional client-chosen id (1-64 letters, digits, - or _). */
  runId?: string;
  name?: string;
  tags?: KeyValuesInput;
  parentRunId?: string;
  source?: StartRunSource;
  environment?: Record<string, unknown>;
  /** Milliseconds since the epoch; the server's clock when omitted. */
  startTime?: number;
  /** The run this one reproduces: the link shows on both runs. */
  reproductionOf?: string;
}

/** The code behind a run; `@chronicle/sdk/node`'s captureRunContext fills it from git. */
export interface StartRunSource {
  gitCommit?: string;
  gitRepo?: string;
  source?: string;
  entryPoint?: string;
  gitBranch?: string;
  gitDirty?: boolean;
  /** At most 64 KB; for a larger diff send gitDiffSha256 alone. */
  gitDiff?: string;
  gitDiffSha256?: string;
  command?: string[];
  workingDir?: string;
}

export interface RunsApi {
  /** Fails with NOT_FOUND if there is no such run. */
  get(id: string, opts?: ReadOptions): Promise<Run>;
  search(query?: RunSearch): Promise<RunPage>;
  /** Every point of one metric, ordered by step (all pages). */
  metricHistory(runId: string, key: string, opts?: ReadOptions): Promise<MetricHistory>;
  /** A chart-ready series of at most `maxPoints` finite points (server default 1000). */
  metricSeries(runId: string, key: string, maxPoints?: number, opts?: ReadOptions): Promise<MetricSeries>;
  /** Starts a run and returns it; `client.startRun` wraps this in an ActiveRun. */
  start(input: StartRunInput): Promise<Run>;
  /** Params are immutable: a different value for a logged key fails with BAD_USER_INPUT. */
  logParams(runId: string, params: KeyValuesInput): Promise<Run>;
  setTags(runId: string, tags: KeyValuesInput): Promise<Run>;
  deleteTag(runId: string, key: string): Promise<Run>;
  finish(runId: string, status?: TerminalStatus, endTime?: number): Promise<Run>;
  /**
   * Sends points in one request through the bulk endpoint. Retries network errors and 5xx
   * with the same idempotency key (a fresh one unless given), so points are never written twice.
   */
  logMetrics(runId: string, points: readonly MetricPointInput[], opts?: { idempotencyKey?: string }): Promise<IngestResult>;
  delete(runId: string): Promise<Run>;
  restore(runId: string): Promise<Run>;
  move(runId: string, experimentId: string): Promise<Run>;
}

const HISTORY_PAGE = 10_000;

export function runsApi(t: Transport): RunsApi {
  const mutate = async (args: string, call: string, variables: Record<string, unknown>): Promise<Run> => {
    const data = await t.graphql<{ run: WireRun }>(`mutation(${args}) { run: ${call} { ...RunFields } } ${RUN_FIELDS}`, variables, {
      retry: true,
      idempotencyKey: crypto.randomUUID(),
    });
    return decodeRun(data.run);
  };

  return {
    async get(id, opts = {}) {
      const data = await t.graphql<{ run: WireRun }>(`query($id: ID!, $asOf: AsOf) { run(id: $id, asOf: $asOf) { ...RunFields } } ${RUN_FIELDS}`, { id, asOf: asOfVariable(opts.asOf) }, { retry: true });
      return decodeRun(data.run);
    },

    async search(q = {}) {
      const data = await t.graphql<{ runs: { nodes: WireRun[]; pageInfo: RunPage['pageInfo']; totalCount: number } }>(
        `query($experimentIds: [ID!], $filter: String, $orderBy: [String!], $first: Int, $after: String, $lifecycle: LifecycleFilter, $asOf: AsOf) {
          runs(experimentIds: $experimentIds, filter: $filter, orderBy: $orderBy, first: $first, after: $after, lifecycle: $lifecycle, asOf: $asOf) {
            nodes { ...RunFields } pageInfo { endCursor hasNextPage } totalCount
          }
        } ${RUN_FIELDS}`,
        {
          experimentIds: q.experimentIds ?? null,
          filter: q.filter ?? null,
          orderBy: q.orderBy ?? null,
          first: q.first ?? 50,
          after: q.after ?? null,
          lifecycle: q.lifecycle ?? 'ACTIVE',
          asOf: asOfVariable(q.asOf),
        },
        { retry: true },
      );
      return { ...data.runs, nodes: data.runs.nodes.map(decodeRun) };
    },

    async metricHistory(runId, key, opts = {}) {
      const points: MetricPoint[] = [];
      let after: string | null = null;
      let totalCount = 0;
      for (;;) {
        const data: {
          metricHistory: { totalCount: number; points: { step: number; value: unknown; timestamp: number }[]; pageInfo: RunPage['pageInfo'] };
        } = await t.graphql(
          `query($runId: ID!, $key: String!, $first: Int, $after: String, $asOf: AsOf) {
            metricHistory(runId: $runId, key: $key, first: $first, after: $after, asOf: $asOf) {
              totalCount points { step value timestamp } pageInfo { endCursor hasNextPage }
            }
          }`,
          // Every page from the same point of the log, so pages of a moving series stay consistent.
          { runId, key, first: HISTORY_PAGE, after, asOf: asOfVariable(opts.asOf) },
          { retry: true },
        );
        const page = data.metricHistory;
        totalCount = page.totalCount;
        for (const p of page.points) points.push({ step: p.step, value: decodeMetricValue(p.value), timestamp: p.timestamp });
        if (!page.pageInfo.hasNextPage || !page.pageInfo.endCursor) break;
        after = page.pageInfo.endCursor;
      }
      return { runId, key, totalCount, points };
    },

    async metricSeries(runId, key, maxPoints, opts = {}) {
      const data = await t.graphql<{ metricSeries: MetricSeries }>(
        `query($runId: ID!, $key: String!, $maxPoints: Int, $asOf: AsOf) {
          metricSeries(runId: $runId, key: $key, maxPoints: $maxPoints, asOf: $asOf) { runId key level totalPoints points { step value } }
        }`,
        { runId, key, maxPoints: maxPoints ?? 1000, asOf: asOfVariable(opts.asOf) },
        { retry: true },
      );
      return data.metricSeries;
    },

    start: (input) =>
      mutate('$input: StartRunInput!', 'startRun(input: $input)', {
        input: {
          experimentId: input.experimentId,
          ...(input.runId !== undefined ? { runId: input.runId } : {}),
          ...(input.name !== undefined ? { name: input.name } : {}),
          ...(input.parentRunId !== undefined ? { parentRunId: input.parentRunId } : {}),
          ...(input.source !== undefined ? { source: input.source } : {}),
          ...(input.environment !== undefined ? { environment: input.environment } : {}),
          ...(input.startTime !== undefined ? { startTime: input.startTime } : {}),
          ...(input.reproductionOf !== undefined ? { reproductionOf: input.reproductionOf } : {}),
          tags: toKeyValues(input.tags),
        },
      }),
    logParams: (runId, params) =>
      mutate('$runId: ID!, $params: [KeyValueInput!]!', 'logParams(runId: $runId, params: $params)', {
        runId,
        params: toKeyValues(params),
      }),
    setTags: (runId, tags) =>
      mutate('$runId: ID!, $tags: [KeyValueInput!]!', 'setTags(runId: $runId, tags: $tags)', { runId, tags: toKeyValues(tags) }),
    deleteTag: (runId, key) => mutate('$runId: ID!, $key: String!', 'deleteTag(runId: $runId, key: $key)', { runId, key }),
    finish: (runId, status = 'FINISHED', endTime) =>
      mutate('$runId: ID!, $status: TerminalStatus, $endTime: Float', 'finishRun(runId: $runId, status: $status, endTime: $endTime)', {
        runId,
        status,
        endTime: endTime ?? null,
      }),
    logMetrics: (runId, points, opts = {}) =>
      t.post<IngestResult>(`/api/v1/runs/${encodeURIComponent(runId)}/metrics`, points.map(toWirePoint), {
        retry: true,
        idempotencyKey: opts.idempotencyKey ?? crypto.randomUUID(),
      }),
    delete: (runId) => mutate('$runId: ID!', 'deleteRun(runId: $runId)', { runId }),
    restore: (runId) => mutate('$runId: ID!', 'restoreRun(runId: $runId)', { runId }),
    move: (runId, experimentId) =>
      mutate('$runId: ID!, $experimentId: ID!', 'moveRun(runId: $runId, experimentId: $experimentId)', { runId, experimentId }),
  };
}

export function toWirePoint(p: MetricPointInput) {
  return {
    key: p.key,
    value: encodeMetricValue(p.value),
    ...(p.step !== undefined ? { step: p.step } : {}),
    ...(p.timestamp !== undefined ? { timestamp: p.timestamp } : {}),
  };
}

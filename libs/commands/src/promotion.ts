import {
  actorOf,
  alreadyHolds,
  ConcurrencyConflict,
  decidePromotion,
  evaluateGates,
  holderOf,
  IllegalTransition,
  modelStream,
  moveTarget,
  NotFound,
  parseTarget,
  promotionDecider,
  requireRole,
  targetName,
  type GateEvaluation,
  type GateRules,
  type ModelPointerCommand,
  type PromoteModelVersion,
  type PromotionFacts,
  type PromotionMove,
  type PromotionState,
  type RequiredInput,
  type Role,
  type RunInputFact,
} from '@chronicle/domain';
import { handleCommand, loadState, StateCache, type AppendResult, type EventStore } from '@chronicle/event-store';
import { metaFor, type CommandContext } from './context.js';

/** Where the facts about runs come from: the read models, wired by the server. */
export interface PromotionFactSources {
  /** The latest value of each metric a run logged. */
  runMetrics(runId: string): Readonly<Record<string, number>>;
  /** The dataset versions a run declared as inputs (lineage). */
  runInputs?(runId: string): readonly RunInputFact[];
}

export interface PromotionDeps {
  store: EventStore;
  clock: () => number;
  done<T extends object>(res: AppendResult, value: T): Promise<T & { position: number; replayed: boolean }>;
  sources?: PromotionFactSources;
}

export interface SetPromotionGatesInput {
  model: string;
  target: string;
  metricRules?: string[];
  requiredInputs?: Partial<RequiredInput>[];
  approval?: { count?: number; minRole?: Role } | null;
}

export interface PromotionCheckResult extends GateEvaluation {
  model: string;
  version: number;
  target: string;
}

const MODEL_STREAM_RETRIES = 64;
// Gathering facts and deciding race with a pointer move; each lost race re-gathers.
const HOLDER_RACE_RETRIES = 5;

interface RefusalResult {
  model: string;
  refused: { version: number; target: string; gatesVersion: number; failures: unknown[] };
}

/** Gates, approvals and the gate check every alias or stage move passes through. */
export function createPromotionCommands(deps: PromotionDeps) {
  const { store, clock, done } = deps;
  // The model stream folds into a different state here than in the registry, so it needs its own cache.
  const cache = new StateCache(1_000);

  const metricsOf = (runId: string | undefined) => (runId === undefined ? {} : (deps.sources?.runMetrics(runId) ?? {}));

  function factsFor(state: PromotionState, move: PromotionMove): PromotionFacts {
    const version = move.data.version;
    const holder = holderOf(state, moveTarget(move), version);
    const runId = state.runOf[version];
    return {
      candidateMetrics: metricsOf(runId),
      candidateInputs: runId === undefined ? [] : [...(deps.sources?.runInputs?.(runId) ?? [])],
      holder: holder === null ? null : { version: holder, metrics: metricsOf(state.runOf[holder]) },
    };
  }

  async function onStream<T extends object>(ctx: CommandContext, name: string, type: string, input: unknown, command: Parameters<typeof decidePromotion>[0], value: T) {
    const res = await handleCommand(store, modelStream(name), promotionDecider, command, {
      meta: metaFor(ctx, type, input, value),
      cache,
      retries: MODEL_STREAM_RETRIES,
    });
    return done(res, value);
  }

  function refusalError(r: RefusalResult): IllegalTransition {
    const { version, target, gatesVersion, failures } = r.refused;
    return new IllegalTransition(
      `promotion of ${r.model} version ${version} to ${target} refused by gates v${gatesVersion}: ${failures.length} rule${failures.length === 1 ? '' : 's'} failed`,
      { model: r.model, version, target, gatesVersion, failures },
    );
  }

  /**
   * Decides the move and its gates on one revision of the model's stream. A refusal is
   * appended (so it is on the record) and then thrown; a retry of the same request replays it.
   */
  async function gate(ctx: CommandContext, input: unknown, change: ModelPointerCommand): Promise<AppendResult | null> {
    if (change.type === 'RemoveModelAlias') return null;
    const name = change.data.name;
    const stream = modelStream(name);
    for (let attempt = 0; ; attempt++) {
      const { state } = await loadState(store, stream, promotionDecider, cache);
      const command: PromoteModelVersion = {
        type: 'PromoteModelVersion',
        data: { move: change, facts: factsFor(state, change), actor: actorOf(ctx.principal), at: change.data.at },
      };
      const meta = metaFor(ctx, change.type, input, { model: name });
      try {
        const res = await handleCommand(
          store,
          stream,
          promotionDecider,
          (fresh) => {
            // Deciding is pure, so deciding here first tells what a retry of this request must answer.
            const refusal = decidePromotion(command, fresh).find((e) => e.type === 'ModelPromotionRefused');
            if (refusal && meta.idempotencyKey) meta.result = refusalOf(name, refusal.data as RefusalResult['refused']);
            return command;
          },
          { meta, cache, retries: MODEL_STREAM_RETRIES },
        );
        const recorded = res.replayed
          ? (res.result as Partial<RefusalResult> | null)
          : (() => {
              const e = res.events.find((ev) => ev.type === 'ModelPromotionRefused');
              return e ? refusalOf(name, e.data as RefusalResult['refused']) : null;
            })();
        if (recorded?.refused) {
          await done(res, {});
          throw refusalError(recorded as RefusalResult);
        }
        return res;
      } catch (e) {
        if (!(e instanceof ConcurrencyConflict) || e.details['holderChanged'] !== true || attempt >= HOLDER_RACE_RETRIES) throw e;
      }
    }
  }

  return {
    gate,

    async setGates(ctx: CommandContext, input: SetPromotionGatesInput) {
      requireRole(ctx.principal, 'maintainer', 'setting promotion gates');
      const rules: GateRules = {
        metricRules: input.metricRules ?? [],
        requiredInputs: (input.requiredInputs ?? []).map((r) => ({ dataset: r.dataset ?? '', version: r.version ?? null, role: r.role ?? null })),
        approval: input.approval ? { count: input.approval.count ?? 1, minRole: input.approval.minRole ?? 'maintainer' } : null,
      };
      const target = targetName(parseTarget(input.target));
      return onStream(ctx, input.model, 'SetPromotionGates', input, { type: 'SetPromotionGates', data: { name: input.model, target, rules, at: clock() } }, {
        model: input.model,
        target,
      });
    },

    async approve(ctx: CommandContext, input: { model: string; version: number; target: string; comment?: string }) {
      requireRole(ctx.principal, 'member', 'approving model versions');
      const command = {
        type: 'ApproveModelVersion' as const,
        data: {
          name: input.model,
          version: input.version,
          target: input.target,
          username: ctx.principal.username,
          role: ctx.principal.role,
          comment: input.comment ?? '',
          at: clock(),
        },
      };
      return onStream(ctx, input.model, 'ApproveModelVersion', input, command, { model: input.model, version: input.version });
    },

    /** The dry run: what the gates would say about this promotion now. Writes nothing. */
    async check(ctx: CommandContext, input: { model: string; version: number; target: string }): Promise<PromotionCheckResult> {
      requireRole(ctx.principal, 'viewer', 'checking promotion gates');
      const target = parseTarget(input.target);
      const { state } = await loadState(store, modelStream(input.model), promotionDecider, cache);
      if (!state.model.registered) throw new NotFound(`model ${input.model} does not exist`, { model: input.model });
      const v = state.model.versions[input.version];
      if (!v || v.deleted) throw new NotFound(`model ${input.model} has no version ${input.version}`, { model: input.model, version: input.version });
      const move: PromotionMove =
        target.kind === 'alias'
          ? { type: 'SetModelAlias', data: { name: input.model, alias: target.alias, version: input.version, expectedCurrentVersion: undefined, at: 0 } }
          : {
              type: 'TransitionModelVersionStage',
              data: { name: input.model, version: input.version, stage: target.stage, archiveExisting: false, expectedCurrentStage: undefined, at: 0 },
            };
      const facts = factsFor(state, move);
      const name = targetName(target);
      const evaluation = evaluateGates({
        gates: state.gates[name] ?? null,
        candidate: { version: input.version, metrics: facts.candidateMetrics, inputs: facts.candidateInputs },
        holder: alreadyHolds(state, target, input.version) ? null : facts.holder,
        approvals: state.approvals[input.version] ?? [],
      });
      return { model: input.model, version: input.version, target: name, ...evaluation };
    },
  };
}

function refusalOf(model: string, d: RefusalResult['refused']): RefusalResult {
  return { model, refused: { version: d.version, target: d.target, gatesVersion: d.gatesVersion, failures: d.failures } };
}

export type PromotionCommands = ReturnType<typeof createPromotionCommands>;

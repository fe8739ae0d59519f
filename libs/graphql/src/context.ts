import type { AsOf, IntegrityReport, ModelVersionAuditReport, ReproductionRecipe, ResolvedAsOf } from '@chronicle/audit';
import type { Commands, CommandContext } from '@chronicle/commands';
import type { Principal } from '@chronicle/domain';
import type { ReadModels } from '@chronicle/projections';
import type { ManifestEntry } from '@chronicle/datasets';

/** What every resolver gets: who asks, the write path, the read models. */
export interface GraphQLContext {
  principal: Principal;
  commands: Commands;
  read: ReadModels;
  /** Integrity checks against the live event store. */
  audit: {
    verify(): Promise<IntegrityReport>;
    /** A run's reproduction recipe, read from the log up to `asOf` (null: the head). */
    recipe(runId: string, asOf: AsOf | null): Promise<ReproductionRecipe>;
    /** One model version's audit report, read from the log up to `asOf`; `verify` adds the integrity check. */
    report(model: string, version: number, opts: { asOf: AsOf | null; verify: boolean }): Promise<ModelVersionAuditReport>;
  };
  correlationId: string;
  /** Dataset manifests, read from the blob store (for diffs). */
  manifests?: { load(sha256: string): Promise<ManifestEntry[]> };
  /** From the Idempotency-Key header; a mutation's own `idempotencyKey` argument wins. */
  idempotencyKey?: string;
  /** Read models at a past point of the log (queries' `asOf`); absent when they live in memory. */
  timeTravel?: {
    /** The read models once the event `asOf` names was applied; refuses positions beyond the head. */
    at(asOf: AsOf): Promise<ReadModels>;
    resolve(asOf: AsOf): Promise<ResolvedAsOf>;
  };
}

export function commandContext(ctx: GraphQLContext, idempotencyKey?: string | null): CommandContext {
  const key = idempotencyKey ?? ctx.idempotencyKey;
  return { principal: ctx.principal, correlationId: ctx.correlationId, ...(key ? { idempotencyKey: key } : {}) };
}

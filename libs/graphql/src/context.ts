import type { IntegrityReport } from '@chronicle/audit';
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
  audit: { verify(): Promise<IntegrityReport> };
  correlationId: string;
  /** Dataset manifests, read from the blob store (for diffs). */
  manifests?: { load(sha256: string): Promise<ManifestEntry[]> };
  /** From the Idempotency-Key header; a mutation's own `idempotencyKey` argument wins. */
  idempotencyKey?: string;
}

export function commandContext(ctx: GraphQLContext, idempotencyKey?: string | null): CommandContext {
  const key = idempotencyKey ?? ctx.idempotencyKey;
  return { principal: ctx.principal, correlationId: ctx.correlationId, ...(key ? { idempotencyKey: key } : {}) };
}

import { IllegalTransition } from '@chronicle/domain';
import { MlflowError } from '../wire.js';

interface Failure {
  kind?: string;
  rule?: string;
  message?: string;
}

/**
 * A promotion gate's refusal in MLflow's vocabulary: INVALID_STATE (HTTP 400), because the
 * version's state (its metrics, lineage, approvals) does not meet the target's gates; the
 * caller's permissions are fine, so it is not PERMISSION_DENIED. The message lists every
 * failing rule, since an MLflow client shows only the message. The refusal is on record in
 * Chronicle (GraphQL `promotionDecisions`) either way.
 */
export function gateRefusal(e: unknown): MlflowError | null {
  if (!(e instanceof IllegalTransition) || !Array.isArray(e.details['failures'])) return null;
  const failures = e.details['failures'] as Failure[];
  const rules = failures.map((f) => `[${f.kind ?? 'rule'}] ${f.rule ?? ''}: ${f.message ?? 'failed'}`);
  return new MlflowError('INVALID_STATE', `${e.message}: ${rules.join('; ')}`);
}

/** Runs a pointer move, turning a gate refusal into its MLflow error. */
export async function throughGates<T>(move: Promise<T>): Promise<T> {
  try {
    return await move;
  } catch (e) {
    throw gateRefusal(e) ?? e;
  }
}

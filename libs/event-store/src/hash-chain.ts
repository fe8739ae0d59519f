import { createHash } from 'node:crypto';

export const GENESIS_HASH = '0'.repeat(64);

export interface HashedFields {
  id: string;
  stream: string;
  revision: number;
  type: string;
  schemaVersion: number;
  recordedAt: number;
  actor: string;
  correlationId: string;
  causationId: string | null;
}

/**
 * Each event's hash covers the previous hash of its stream, its envelope and its
 * canonical data, so editing, removing or reordering stored events breaks the chain.
 */
export function chainHash(previous: string, e: HashedFields, canonicalData: string): string {
  const head = `${previous}\n${e.id}\n${e.stream}\n${e.revision}\n${e.type}\n${e.schemaVersion}\n${e.recordedAt}\n${e.actor}\n${e.correlationId}\n${e.causationId ?? ''}\n`;
  return createHash('sha256').update(head).update(canonicalData).digest('hex');
}

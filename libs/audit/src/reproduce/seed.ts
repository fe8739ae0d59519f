import type { KeyValue } from '@chronicle/domain';

/**
 * The convention: a run's random seed is the param (else the tag) named, case-insensitively,
 * `seed`, `random_seed`, `random_state` or `rng_seed`, checked in that order.
 */
export const SEED_KEYS = ['seed', 'random_seed', 'random_state', 'rng_seed'] as const;

export interface SeedFact {
  key: string;
  value: string;
  from: 'param' | 'tag';
}

export function findSeed(params: readonly KeyValue[], tags: readonly KeyValue[]): SeedFact | null {
  for (const [list, from] of [[params, 'param'], [tags, 'tag']] as const)
    for (const name of SEED_KEYS) {
      const hit = list.find((kv) => kv.key.toLowerCase() === name);
      if (hit) return { key: hit.key, value: hit.value, from };
    }
  return null;
}

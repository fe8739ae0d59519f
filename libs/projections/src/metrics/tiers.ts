/**
 * Downsampled tiers of a metric series. Points are numbered in arrival order; level L groups
 * them into buckets of `bucketSize(L)` points, each bucket keeping its first, last, minimum
 * and maximum point. A chart over a million points then reads a thousand bucket rows instead
 * of the points themselves. Each level's buckets nest four to one in the next.
 */
export const TIER_LEVELS = 7;
export const BASE_BUCKET = 256;
export const bucketSize = (level: number) => BASE_BUCKET * 4 ** (level - 1);

export interface TierPoint {
  step: number;
  value: number;
  timestamp: number;
}

export interface BucketAggregate {
  level: number;
  bucket: number;
  count: number;
  first: TierPoint | null;
  last: TierPoint | null;
  min: TierPoint | null;
  max: TierPoint | null;
}

/**
 * Aggregates a batch of points (numbered from `base`) into partial buckets for every level.
 * Non-finite values count as points but cannot be drawn, so they never become first, last,
 * min or max.
 */
export function aggregateBatch(
  base: number,
  steps: ArrayLike<number>,
  values: ArrayLike<number>,
  timestamps: ArrayLike<number>,
): BucketAggregate[] {
  const out: BucketAggregate[] = [];
  let level: BucketAggregate[] = [];
  let current: BucketAggregate | null = null;
  for (let i = 0; i < steps.length; i++) {
    const b = Math.floor((base + i) / BASE_BUCKET);
    if (!current || current.bucket !== b) {
      current = { level: 1, bucket: b, count: 0, first: null, last: null, min: null, max: null };
      level.push(current);
    }
    current.count++;
    const v = values[i]!;
    if (!Number.isFinite(v)) continue;
    const p = { step: steps[i]!, value: v, timestamp: timestamps[i]! };
    if (!current.first) current.first = p;
    current.last = p;
    if (!current.min || v < current.min.value) current.min = p;
    if (!current.max || v > current.max.value) current.max = p;
  }
  out.push(...level);
  for (let l = 2; l <= TIER_LEVELS; l++) {
    const next: BucketAggregate[] = [];
    for (const a of level) {
      const b = Math.floor(a.bucket / 4);
      const tail = next[next.length - 1];
      if (tail && tail.bucket === b) mergeInto(tail, a);
      else next.push({ ...a, level: l, bucket: b });
    }
    out.push(...next);
    level = next;
  }
  return out;
}

/** Merges `later` (whose points all arrived after `into`'s) into `into`. */
export function mergeInto(into: BucketAggregate, later: BucketAggregate): void {
  into.count += later.count;
  into.first = into.first ?? later.first;
  into.last = later.last ?? into.last;
  if (later.min && (!into.min || later.min.value < into.min.value)) into.min = later.min;
  if (later.max && (!into.max || later.max.value > into.max.value)) into.max = later.max;
}

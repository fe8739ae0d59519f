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
  const point = (i: number): TierPoint | null => (i < 0 ? null : { step: steps[i]!, value: values[i]!, timestamp: timestamps[i]! });
  let level: BucketAggregate[] = [];
  // Indexes, not objects, while scanning: this runs for every ingested point.
  for (let start = 0; start < steps.length; ) {
    const bucket = Math.floor((base + start) / BASE_BUCKET);
    const end = Math.min(steps.length, (bucket + 1) * BASE_BUCKET - base);
    let first = -1;
    let last = -1;
    let min = -1;
    let max = -1;
    for (let i = start; i < end; i++) {
      const v = values[i]!;
      if (!Number.isFinite(v)) continue;
      if (first < 0) first = i;
      last = i;
      if (min < 0 || v < values[min]!) min = i;
      if (max < 0 || v > values[max]!) max = i;
    }
    level.push({ level: 1, bucket, count: end - start, first: point(first), last: point(last), min: point(min), max: point(max) });
    start = end;
  }
  const out = [...level];
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

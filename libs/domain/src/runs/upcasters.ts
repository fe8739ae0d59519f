/**
 * How the shape of an event changed over time: `upcast` turns an event stored at `fromVersion`
 * into the shape of `fromVersion + 1`. Pure: the stored bytes are never rewritten.
 */
export interface EventUpcaster {
  readonly type: string;
  readonly fromVersion: number;
  upcast(data: Record<string, unknown>, envelope: { stream: string; recordedAt: number }): Record<string, unknown>;
}

/**
 * RunStarted v1 predates source and environment capture: those runs recorded neither, and
 * v2 says so explicitly with empty objects, which is what a v2 client sends when it knows nothing.
 */
export const runStartedV1ToV2: EventUpcaster = {
  type: 'RunStarted',
  fromVersion: 1,
  upcast: (data) => ({ ...data, source: data['source'] ?? {}, environment: data['environment'] ?? {} }),
};

/** Every upcaster of the domain; the event store applies them on read and stamps new events with the latest version. */
export const domainUpcasters: readonly EventUpcaster[] = [runStartedV1ToV2];

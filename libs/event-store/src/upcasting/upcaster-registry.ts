import { domainUpcasters, ValidationFailed, type EventUpcaster, type RecordedEvent } from '@chronicle/domain';

/**
 * Upcasters by event type and the version they start from. An event is upcast step by step
 * (v1 → v2 → v3) until no upcaster starts at its version: that is the current version.
 */
export class UpcasterRegistry {
  private readonly byType = new Map<string, Map<number, EventUpcaster>>();

  constructor(upcasters: readonly EventUpcaster[]) {
    for (const u of upcasters) {
      const versions = this.byType.get(u.type) ?? new Map<number, EventUpcaster>();
      if (versions.has(u.fromVersion)) throw new ValidationFailed(`two upcasters for ${u.type} v${u.fromVersion}`);
      versions.set(u.fromVersion, u);
      this.byType.set(u.type, versions);
    }
    for (const [type, versions] of this.byType)
      for (let v = 1; v <= versions.size; v++)
        if (!versions.has(v)) throw new ValidationFailed(`the upcasters of ${type} skip version ${v}`);
  }

  /** The version new events of `type` are written at. */
  currentVersion(type: string): number {
    return (this.byType.get(type)?.size ?? 0) + 1;
  }

  upcast(event: RecordedEvent): RecordedEvent {
    const versions = this.byType.get(event.type);
    if (!versions || event.schemaVersion > versions.size) return event;
    let data = event.data as Record<string, unknown>;
    let version = event.schemaVersion;
    for (let u = versions.get(version); u; u = versions.get(version)) {
      data = u.upcast(data, event);
      version++;
    }
    return { ...event, schemaVersion: version, data };
  }
}

export const domainUpcasterRegistry = new UpcasterRegistry(domainUpcasters);

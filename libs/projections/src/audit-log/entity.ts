/** Stream prefixes with a dash inside come first, so `experiment-name-x` is not read as experiment `name-x`. */
const KNOWN_KINDS = ['experiment-name', 'experiment', 'run', 'user', 'token'] as const;
const PREFIXES = KNOWN_KINDS.map((kind) => ({ kind, prefix: `${kind}-` }));

/** `run-<id>` → run <id>; an unknown `<prefix>-<rest>` keeps its prefix as the kind. */
export function entityOfStream(stream: string): { kind: string; id: string } {
  for (const { kind, prefix } of PREFIXES) if (stream.startsWith(prefix)) return { kind, id: stream.slice(prefix.length) };
  const dash = stream.indexOf('-');
  return dash > 0 ? { kind: stream.slice(0, dash), id: stream.slice(dash + 1) } : { kind: stream, id: '' };
}

/** `run:<id>`, `experiment:<id>`, `user:<name>`… name the entity's stream; anything else is taken as a stream name. */
export function streamOfEntity(entity: string): string {
  const m = /^([a-z][a-z-]*):(.+)$/.exec(entity);
  return m ? `${m[1]}-${m[2]}` : entity;
}

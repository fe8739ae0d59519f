export interface RuntimeFact {
  name: string;
  version: string;
}

export interface LockfileFact {
  path: string;
  sha256: string;
}

/** Top-level environment keys read as a language runtime's version when they hold a string. */
const RUNTIME_KEYS = ['node', 'python', 'r', 'java', 'julia', 'go', 'rust'];

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Reads the documented environment convention: `runtime: { node: "v20.11.0", python: "3.11.4" }`
 * (or the same names at the top level) and `lockfiles: [{ path, sha256 }]` (or one `lockfile`).
 * Anything else stays in the recipe's raw environment.
 */
export function readEnvironment(env: Record<string, unknown>): { runtimes: RuntimeFact[]; lockfiles: LockfileFact[] } {
  const runtimes = new Map<string, string>();
  for (const k of RUNTIME_KEYS) if (typeof env[k] === 'string') runtimes.set(k, env[k]);
  if (isRecord(env['runtime'])) for (const [k, v] of Object.entries(env['runtime'])) if (typeof v === 'string') runtimes.set(k, v);
  const lockfiles: LockfileFact[] = [];
  const rawLocks = Array.isArray(env['lockfiles']) ? env['lockfiles'] : env['lockfile'] !== undefined ? [env['lockfile']] : [];
  for (const l of rawLocks)
    if (isRecord(l) && typeof l['path'] === 'string' && typeof l['sha256'] === 'string') lockfiles.push({ path: l['path'], sha256: l['sha256'] });
  return { runtimes: [...runtimes].map(([name, version]) => ({ name, version })).sort((a, b) => a.name.localeCompare(b.name)), lockfiles };
}

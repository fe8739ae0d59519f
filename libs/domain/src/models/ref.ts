import { ValidationFailed } from '../errors.js';
import { MODEL_STAGES, type ModelStage } from './events.js';

/** What `name@alias`, `name/Production` or `name/3` asks for. */
export type ModelRef =
  | { name: string; kind: 'alias'; alias: string }
  | { name: string; kind: 'stage'; stage: ModelStage }
  | { name: string; kind: 'version'; version: number };

export function parseModelRef(ref: string): ModelRef {
  const at = ref.lastIndexOf('@');
  if (at > 0) return { name: ref.slice(0, at), kind: 'alias', alias: ref.slice(at + 1) };
  const slash = ref.lastIndexOf('/');
  if (slash > 0) {
    const name = ref.slice(0, slash);
    const rest = ref.slice(slash + 1);
    if (/^[1-9][0-9]{0,8}$/.test(rest)) return { name, kind: 'version', version: Number(rest) };
    const stage = MODEL_STAGES.find((s) => s.toLowerCase() === rest.toLowerCase());
    if (stage) return { name, kind: 'stage', stage };
  }
  throw new ValidationFailed(`"${ref}" is not a model reference: use name@alias, name/<stage> or name/<version>`, { ref });
}

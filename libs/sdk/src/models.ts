import type { Transport } from './transport.js';
import type { KeyValue } from './types.js';
import { asOfVariable, type ReadOptions } from './as-of.js';

export type ModelStage = 'NONE' | 'STAGING' | 'PRODUCTION' | 'ARCHIVED';

export interface ModelVersion {
  model: string;
  version: number;
  runId: string;
  artifactPath: string;
  sha256: string;
  size: number;
  format: string | null;
  description: string;
  stage: ModelStage;
  deleted: boolean;
  aliases: string[];
  createdAt: number;
  createdBy: string;
}

export interface RegisteredModel {
  name: string;
  description: string;
  tags: KeyValue[];
  card: { intendedUse: string; limitations: string; trainingData: string; evaluation: string; owners: string[] };
  latestVersion: number;
  createdAt: number;
  createdBy: string;
  versions: ModelVersion[];
  aliases: { alias: string; version: number; setAt: number; setBy: string }[];
}

export interface PointerPeriod {
  model: string;
  alias: string | null;
  version: number;
  fromTime: number;
  toTime: number | null;
  setBy: string;
}

const VERSION = 'model version runId artifactPath sha256 size format description stage deleted aliases createdAt createdBy';
const MODEL = `name description tags { key value } card { intendedUse limitations trainingData evaluation owners } latestVersion createdAt createdBy
  versions { ${VERSION} } aliases { alias version setAt setBy }`;

export interface ModelsApi {
  register(input: { name: string; description?: string; tags?: KeyValue[]; card?: Partial<RegisteredModel['card']> }): Promise<RegisteredModel>;
  list(opts?: { nameContains?: string } & ReadOptions): Promise<RegisteredModel[]>;
  get(name: string, opts?: ReadOptions): Promise<RegisteredModel>;
  createVersion(input: { model: string; runId: string; artifactPath: string; format?: string; description?: string }): Promise<ModelVersion>;
  /** With `expectedCurrentVersion` (0: none), a compare-and-set: CONFLICT if another version holds the alias. */
  setAlias(model: string, alias: string, version: number, expectedCurrentVersion?: number): Promise<ModelVersion>;
  removeAlias(model: string, alias: string, expectedCurrentVersion?: number): Promise<RegisteredModel>;
  transitionStage(model: string, version: number, stage: ModelStage, opts?: { archiveExisting?: boolean }): Promise<ModelVersion>;
  deleteVersion(model: string, version: number): Promise<ModelVersion>;
  /** `name@alias`, `name/Production` or `name/3`. */
  resolve(ref: string, opts?: ReadOptions): Promise<ModelVersion>;
  aliasHistory(model: string, alias: string, at?: number, opts?: ReadOptions): Promise<PointerPeriod[]>;
}

export function modelsApi(t: Transport): ModelsApi {
  const write = async <T>(query: string, variables: Record<string, unknown>) => {
    const data = await t.graphql<Record<string, T>>(query, variables, { retry: true, idempotencyKey: crypto.randomUUID() });
    return Object.values(data)[0]!;
  };
  const read = async <T>(query: string, variables: Record<string, unknown>) =>
    Object.values(await t.graphql<Record<string, T>>(query, variables, { retry: true }))[0]!;
  return {
    register: (input) =>
      write(`mutation($i: RegisterModelInput!) { registerModel(input: $i) { ${MODEL} } }`, { i: input }),
    list: (opts = {}) =>
      read(`query($n: String, $asOf: AsOf) { models(nameContains: $n, asOf: $asOf) { ${MODEL} } }`, { n: opts.nameContains ?? null, asOf: asOfVariable(opts.asOf) }),
    get: (name, opts = {}) => read(`query($n: String!, $asOf: AsOf) { model(name: $n, asOf: $asOf) { ${MODEL} } }`, { n: name, asOf: asOfVariable(opts.asOf) }),
    createVersion: (input) =>
      write(`mutation($i: CreateModelVersionInput!) { createModelVersion(input: $i) { ${VERSION} } }`, { i: input }),
    setAlias: (model, alias, version, expectedCurrentVersion) =>
      write(
        `mutation($m: String!, $a: String!, $v: Int!, $e: Int) { setModelAlias(model: $m, alias: $a, version: $v, expectedCurrentVersion: $e) { ${VERSION} } }`,
        { m: model, a: alias, v: version, e: expectedCurrentVersion ?? null },
      ),
    removeAlias: (model, alias, expectedCurrentVersion) =>
      write(`mutation($m: String!, $a: String!, $e: Int) { removeModelAlias(model: $m, alias: $a, expectedCurrentVersion: $e) { ${MODEL} } }`, {
        m: model,
        a: alias,
        e: expectedCurrentVersion ?? null,
      }),
    transitionStage: (model, version, stage, opts = {}) =>
      write(
        `mutation($m: String!, $v: Int!, $s: ModelStage!, $x: Boolean) { transitionStage(model: $m, version: $v, stage: $s, archiveExisting: $x) { ${VERSION} } }`,
        { m: model, v: version, s: stage, x: opts.archiveExisting ?? false },
      ),
    deleteVersion: (model, version) =>
      write(`mutation($m: String!, $v: Int!) { deleteModelVersion(model: $m, version: $v) { ${VERSION} } }`, { m: model, v: version }),
    resolve: (ref, opts = {}) =>
      read(`query($r: String!, $asOf: AsOf) { resolveModel(ref: $r, asOf: $asOf) { ${VERSION} } }`, { r: ref, asOf: asOfVariable(opts.asOf) }),
    aliasHistory: (model, alias, at, opts = {}) =>
      read(
        `query($m: String!, $a: String!, $at: Float, $asOf: AsOf) { aliasHistory(model: $m, alias: $a, at: $at, asOf: $asOf) { model alias version fromTime toTime setBy } }`,
        { m: model, a: alias, at: at ?? null, asOf: asOfVariable(opts.asOf) },
      ),
  };
}

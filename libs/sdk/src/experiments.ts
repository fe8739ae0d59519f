import { EXPERIMENT_FIELDS } from './documents.js';
import { toKeyValues } from './key-values.js';
import { asOfVariable, type ReadOptions } from './as-of.js';
import type { Transport } from './transport.js';
import type { Experiment, KeyValuesInput, LifecycleFilter } from './types.js';

export interface CreateExperimentInput {
  name: string;
  description?: string;
  tags?: KeyValuesInput;
}

export interface ExperimentsApi {
  /** Fails with CONFLICT if the name is taken (by a soft-deleted experiment too). */
  create(input: CreateExperimentInput): Promise<Experiment>;
  list(opts?: { lifecycle?: LifecycleFilter; nameContains?: string } & ReadOptions): Promise<Experiment[]>;
  /** Fails with NOT_FOUND if there is no such experiment. */
  get(id: string, opts?: ReadOptions): Promise<Experiment>;
  /** Fails with NOT_FOUND if there is no such experiment. */
  getByName(name: string, opts?: ReadOptions): Promise<Experiment>;
  delete(id: string): Promise<Experiment>;
  restore(id: string): Promise<Experiment>;
  setTags(id: string, tags: KeyValuesInput): Promise<Experiment>;
}

export function experimentsApi(t: Transport): ExperimentsApi {
  const mutate = async (field: string, args: string, query: string, variables: Record<string, unknown>) => {
    const data = await t.graphql<Record<string, Experiment>>(
      `mutation(${args}) { ${field}: ${query} { ...ExperimentFields } } ${EXPERIMENT_FIELDS}`,
      variables,
      // Every write carries a fresh key, so retrying it after a lost answer writes nothing twice.
      { retry: true, idempotencyKey: crypto.randomUUID() },
    );
    return data[field]!;
  };
  const lookup = async (variables: { id?: string; name?: string }, opts: ReadOptions) => {
    const data = await t.graphql<{ experiment: Experiment }>(
      `query($id: ID, $name: String, $asOf: AsOf) { experiment(id: $id, name: $name, asOf: $asOf) { ...ExperimentFields } } ${EXPERIMENT_FIELDS}`,
      { ...variables, asOf: asOfVariable(opts.asOf) },
      { retry: true },
    );
    return data.experiment;
  };
  return {
    create: (input) =>
      mutate('experiment', '$input: CreateExperimentInput!', 'createExperiment(input: $input)', {
        input: {
          name: input.name,
          ...(input.description !== undefined ? { description: input.description } : {}),
          tags: toKeyValues(input.tags),
        },
      }),
    async list(opts = {}) {
      const data = await t.graphql<{ experiments: Experiment[] }>(
        `query($lifecycle: LifecycleFilter, $nameContains: String, $asOf: AsOf) {
          experiments(lifecycle: $lifecycle, nameContains: $nameContains, asOf: $asOf) { ...ExperimentFields }
        } ${EXPERIMENT_FIELDS}`,
        { lifecycle: opts.lifecycle ?? 'ACTIVE', nameContains: opts.nameContains ?? null, asOf: asOfVariable(opts.asOf) },
        { retry: true },
      );
      return data.experiments;
    },
    get: (id, opts = {}) => lookup({ id }, opts),
    getByName: (name, opts = {}) => lookup({ name }, opts),
    delete: (id) => mutate('experiment', '$id: ID!', 'deleteExperiment(id: $id)', { id }),
    restore: (id) => mutate('experiment', '$id: ID!', 'restoreExperiment(id: $id)', { id }),
    setTags: (id, tags) =>
      mutate('experiment', '$id: ID!, $tags: [KeyValueInput!]!', 'setExperimentTags(id: $id, tags: $tags)', {
        id,
        tags: toKeyValues(tags),
      }),
  };
}

import type { FastifyInstance } from 'fastify';
import { DEFAULT_EXPERIMENT_ID } from '../../bootstrap.js';
import type { Platform } from '../../platform.js';
import { fromChronicleError, invalidParameter, keyValues, MlflowError, optionalString, optionalStringList, requiredString, viewTypeOf } from '../wire.js';
import { actorOf, isChronicleError } from '@chronicle/domain';
import { searchExperiments, type ExperimentRow } from './experiment-search.js';
import { decodePageToken, encodePageToken, maxResultsOf } from './paging.js';
import { commandContext, endpoint } from './routes.js';
import { experimentJson } from './views.js';

/** A retried create answers the experiment its first attempt made, if made this recently by the same user. */
const CREATE_RETRY_WINDOW_MS = 5 * 60_000;

export function registerExperimentEndpoints(app: FastifyInstance, p: Platform): void {
  const notFound = (id: string) => new MlflowError('RESOURCE_DOES_NOT_EXIST', `No Experiment with id=${id} exists`);
  const existing = (id: string) => {
    const e = p.read.experiments.get(id);
    if (!e) throw notFound(id);
    return e;
  };
  const json = (id: string) => experimentJson(existing(id), p.read.experiments.tags(id));

  endpoint(app, 'POST', '/experiments/create', async (m, request) => {
    const name = requiredString(m, 'name');
    const tags = keyValues(m, 'tags');
    // Artifacts always go through this server (proxied, `mlflow-artifacts:`), so a location is not kept.
    const ctx = commandContext(request);
    try {
      const res = await p.commands.experiments.create(ctx, { name, tags });
      return { experiment_id: res.experimentId };
    } catch (e) {
      if (!isChronicleError(e)) throw e;
      const err = fromChronicleError(e);
      if (err.errorCode !== 'RESOURCE_ALREADY_EXISTS') throw err;
      // The client retries a create whose answer it lost; MLflow would then refuse its own
      // experiment. The same user creating the same name moments ago is that retry.
      const prior = p.read.experiments.getByName(name.trim());
      if (
        prior &&
        prior.lifecycle === 'active' &&
        prior.createdBy === actorOf(request.principal) &&
        Date.now() - prior.createdAt < CREATE_RETRY_WINDOW_MS &&
        sameTags(tags, p.read.experiments.tags(prior.experimentId))
      )
        return { experiment_id: prior.experimentId };
      throw new MlflowError('RESOURCE_ALREADY_EXISTS', `Experiment(name=${name}) already exists. Error: ${err.message}`);
    }
  });

  endpoint(app, 'GET', '/experiments/get', async (m) => ({ experiment: json(requiredString(m, 'experiment_id')) }));

  endpoint(app, 'GET', '/experiments/get-by-name', async (m) => {
    const name = requiredString(m, 'experiment_name');
    const e = p.read.experiments.getByName(name);
    if (!e) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `Could not find experiment with name '${name}'`);
    return { experiment: experimentJson(e, p.read.experiments.tags(e.experimentId)) };
  });

  const search = async (m: Record<string, unknown>) => {
    const maxResults = maxResultsOf(m);
    const offset = decodePageToken('experiments', m);
    const rows: ExperimentRow[] = p.read.experiments
      .list({ lifecycle: viewTypeOf(m, 'view_type') })
      .map((experiment) => ({ experiment, tags: p.read.experiments.tags(experiment.experimentId) }));
    const found = searchExperiments(rows, optionalString(m, 'filter'), optionalStringList(m, 'order_by'));
    const page = found.slice(offset, offset + maxResults);
    return {
      experiments: page.map((r) => experimentJson(r.experiment, r.tags)),
      ...(offset + maxResults < found.length ? { next_page_token: encodePageToken('experiments', offset + maxResults) } : {}),
    };
  };
  endpoint(app, 'POST', '/experiments/search', search);
  endpoint(app, 'GET', '/experiments/search', search);

  endpoint(app, 'POST', '/experiments/update', async (m, request) => {
    const id = requiredString(m, 'experiment_id');
    existing(id);
    const newName = optionalString(m, 'new_name');
    if (newName !== undefined) await p.commands.experiments.rename(commandContext(request), id, newName);
    return {};
  });

  endpoint(app, 'POST', '/experiments/delete', async (m, request) => {
    const id = requiredString(m, 'experiment_id');
    if (id === DEFAULT_EXPERIMENT_ID)
      throw invalidParameter(`Cannot delete the default experiment '${DEFAULT_EXPERIMENT_ID}'. This is an internally reserved experiment.`);
    existing(id);
    await p.commands.experiments.delete(commandContext(request), id);
    return {};
  });

  endpoint(app, 'POST', '/experiments/restore', async (m, request) => {
    const id = requiredString(m, 'experiment_id');
    existing(id);
    await p.commands.experiments.restore(commandContext(request), id);
    return {};
  });

  endpoint(app, 'POST', '/experiments/set-experiment-tag', async (m, request) => {
    const id = requiredString(m, 'experiment_id');
    const key = requiredString(m, 'key');
    existing(id);
    await p.commands.experiments.setTags(commandContext(request), id, [{ key, value: optionalString(m, 'value') ?? '' }]);
    return {};
  });
}

function sameTags(sent: readonly { key: string; value: string }[], stored: readonly { key: string; value: string }[]): boolean {
  return sent.every((t) => stored.some((s) => s.key === t.key && s.value === t.value));
}

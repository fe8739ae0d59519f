import type { FastifyInstance } from 'fastify';
import type { Platform } from '../../platform.js';
import { MlflowError } from '../wire.js';
import { registeredModelJson } from './entities.js';
import { commandContext, fieldsOf, mlflowRoute, optionalString, requiredString, tagList } from './request.js';
import { blindRetry, type DeliveredAnswers } from './retry.js';
import { encodePageToken, parseSearch } from './search.js';

const API = '/registered-models';

/** MLflow's wording for a missing registered model, so clients and users recognise it. */
export function requireModel(platform: Platform, name: string) {
  const model = platform.read.models.get(name);
  if (!model) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `Registered Model with name=${name} not found`);
  return model;
}

/** Registered models: create, read, rename, update, delete, search, tags. */
export function registerModelRoutes(app: FastifyInstance, platform: Platform, deliveries: DeliveredAnswers): void {
  const { commands, read } = platform;
  const answer = (name: string) => ({ registered_model: registeredModelJson(read, requireModel(platform, name)) });

  mlflowRoute(app, 'POST', `${API}/create`, async (request, reply) => {
    const f = fieldsOf(request);
    const name = requiredString(f, 'name').trim();
    const tags = tagList(f);
    const description = optionalString(f, 'description') ?? '';
    const retry = blindRetry(request, deliveries, 'create-registered-model', [name, description, tags]);
    await commands.models.register(commandContext(request), { name, description, tags, ...(retry ? { retry } : {}) });
    deliveries.onDelivered(reply, retry, 0);
    return answer(name);
  });

  mlflowRoute(app, 'GET', `${API}/get`, async (request) => answer(requiredString(fieldsOf(request), 'name')));

  mlflowRoute(app, 'POST', `${API}/rename`, async (request) => {
    const f = fieldsOf(request);
    const name = requiredString(f, 'name');
    const newName = requiredString(f, 'new_name').trim();
    // A retry after the rename went through finds the model under its new name already.
    if (!read.models.get(name) && read.models.get(newName)) return answer(newName);
    requireModel(platform, name);
    await commands.models.rename(commandContext(request), { model: name, newName });
    return answer(newName);
  });

  mlflowRoute(app, 'PATCH', `${API}/update`, async (request) => {
    const f = fieldsOf(request);
    const name = requiredString(f, 'name');
    requireModel(platform, name);
    const description = optionalString(f, 'description');
    if (description !== undefined) await commands.models.updateDescription(commandContext(request), { model: name, description });
    return answer(name);
  });

  mlflowRoute(app, 'DELETE', `${API}/delete`, async (request) => {
    const name = requiredString(fieldsOf(request), 'name');
    requireModel(platform, name);
    await commands.models.delete(commandContext(request), { model: name });
    return {};
  });

  mlflowRoute(app, 'GET', `${API}/search`, async (request) => {
    const search = parseSearch(fieldsOf(request), 'models');
    // One row more than the page tells whether another page follows.
    const rows = read.models.search({ ...search, limit: search.limit + 1 });
    const page = rows.slice(0, search.limit);
    return {
      registered_models: page.map((m) => registeredModelJson(read, m)),
      ...(rows.length > search.limit ? { next_page_token: encodePageToken(search.offset + search.limit) } : {}),
    };
  });

  mlflowRoute(app, 'POST', `${API}/set-tag`, async (request) => {
    const f = fieldsOf(request);
    const name = requiredString(f, 'name');
    requireModel(platform, name);
    await commands.models.setTag(commandContext(request), { model: name, key: requiredString(f, 'key'), value: optionalString(f, 'value') ?? '' });
    return {};
  });

  mlflowRoute(app, 'DELETE', `${API}/delete-tag`, async (request) => {
    const f = fieldsOf(request);
    const name = requiredString(f, 'name');
    requireModel(platform, name);
    await commands.models.deleteTag(commandContext(request), { model: name, key: requiredString(f, 'key') });
    return {};
  });
}

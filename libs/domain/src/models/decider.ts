import { assertNever, ConcurrencyConflict, IllegalTransition, NotFound, ValidationFailed } from '../errors.js';
import { validateTags } from '../experiments/decider.js';
import type { Decider } from '../shared/decider.js';
import { MAX_NAME_LENGTH, validateText } from '../shared/validation.js';
import { validateArtifactPath } from '../runs/decider.js';
import { MAX_TAG_VALUE_LENGTH, validateKey } from '../shared/validation.js';
import type { ExpectedHolder, ModelCommand, RenameModel, RetryWindow } from './commands.js';
import { isModelEvent, MODEL_STAGES, type ModelCard, type ModelEvent, type ModelStage } from './events.js';

export interface ModelVersionState {
  stage: ModelStage;
  deleted: boolean;
  /** The run that made it; absent only in states built before it was kept. */
  runId?: string;
}

/** A recent creation, remembered to recognise a blind retry of its request. */
export interface RecentCreation {
  fingerprint: string;
  version: number;
  at: number;
}
// Enough for the burst of registrations one model sees within any sane retry window.
const RECENT_CREATIONS = 32;

export interface RegisteredModel {
  name: string;
  registered: boolean;
  /** Highest version ever created; deleted versions keep their number, so numbers are never reused. */
  lastVersion: number;
  versions: Record<number, ModelVersionState>;
  aliases: Record<string, number>;
  /** The registering request's fingerprint, when it asked for retries to be recognised. */
  registration?: { fingerprint: string; at: number } | null;
  recentCreations?: RecentCreation[];
}

export const initialModel = (): RegisteredModel => ({ name: '', registered: false, lastVersion: 0, versions: {}, aliases: {} });

const withinRetryWindow = (retry: RetryWindow | undefined, fingerprint: string, firstAt: number, at: number) =>
  retry !== undefined && retry.fingerprint === fingerprint && at - firstAt <= retry.withinMs;

/** The version a blind retry of a version creation must answer with, or null: it is a new request. */
export function retriedCreation(model: RegisteredModel, retry: RetryWindow | undefined, at: number): number | null {
  if (!retry) return null;
  for (const c of model.recentCreations ?? [])
    if (withinRetryWindow(retry, c.fingerprint, c.at, at) && model.versions[c.version]?.deleted === false && !retry.delivered?.includes(c.version))
      return c.version;
  return null;
}

const validateTag = (kind: string, key: unknown, value: unknown) => ({
  key: validateKey(kind, key),
  value: validateText(`${kind} "${String(key)}" value`, value, MAX_TAG_VALUE_LENGTH, { allowEmpty: true }),
});

// '@' and '/' separate the parts of a model reference (`name@alias`, `name/3`), so names never contain them.
const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
// Starting with a letter keeps an alias from ever reading as a version number.
const ALIAS = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
const MAX_CARD_FIELD = 20_000;
const MAX_SIGNATURE_BYTES = 64 * 1024;

export function validateModelName(name: unknown): string {
  if (typeof name !== 'string' || !MODEL_NAME.test(name))
    throw new ValidationFailed('a model name is 1-128 letters, digits, dots, dashes or underscores, starting with a letter or digit', {
      field: 'name',
    });
  return name;
}

export function validateAlias(alias: unknown): string {
  if (typeof alias !== 'string' || !ALIAS.test(alias))
    throw new ValidationFailed('an alias is 1-64 letters, digits, dashes or underscores, starting with a letter', { field: 'alias' });
  return alias;
}

export function isModelStage(s: unknown): s is ModelStage {
  return typeof s === 'string' && (MODEL_STAGES as readonly string[]).includes(s);
}

function validateCard(card: Partial<ModelCard>): ModelCard {
  const text = (field: keyof Omit<ModelCard, 'owners'>) =>
    validateText(`card.${field}`, card[field] ?? '', MAX_CARD_FIELD, { allowEmpty: true });
  const owners = card.owners ?? [];
  if (!Array.isArray(owners) || owners.some((o) => typeof o !== 'string' || o.trim() === ''))
    throw new ValidationFailed('card.owners must be a list of non-empty names', { field: 'card.owners' });
  return {
    intendedUse: text('intendedUse'),
    limitations: text('limitations'),
    trainingData: text('trainingData'),
    evaluation: text('evaluation'),
    owners: [...new Set(owners)],
  };
}

function requireModel(model: RegisteredModel, name: string): void {
  if (!model.registered) throw new NotFound(`model ${name} does not exist`, { model: name });
}

function requireVersion(model: RegisteredModel, version: number): ModelVersionState {
  const v = model.versions[version];
  if (!Number.isSafeInteger(version) || !v || v.deleted)
    throw new NotFound(`model ${model.name} has no version ${version}`, { model: model.name, version });
  return v;
}

function checkHolder(model: RegisteredModel, alias: string, expected: ExpectedHolder): void {
  if (expected === undefined) return;
  const actual = model.aliases[alias] ?? null;
  // No retry can fix this: the caller decided on a holder that is no longer there.
  if (actual !== expected)
    throw new ConcurrencyConflict(
      `alias ${model.name}@${alias} is held by ${actual === null ? 'no version' : `version ${actual}`}, not ${expected === null ? 'no version' : `version ${expected}`}`,
      { model: model.name, alias, expectedCurrentVersion: expected, actualVersion: actual },
    );
}

const MAX_SOURCE_LENGTH = 4096;

function refuseWhileDeployed(name: string, action: string, deployed: readonly string[] | undefined): void {
  // Deployments record the model by name and version: removing or renaming it would orphan them.
  if (deployed && deployed.length > 0)
    throw new IllegalTransition(`cannot ${action} model ${name}: ${deployed.join(', ')} deployed; deploy another model first`, {
      model: name,
      deployed: [...deployed],
    });
}

/**
 * Renaming moves the model from one stream to another: both are decided here, and the caller
 * appends both lists in one atomic write at the revisions the states were read at.
 */
export function decideModelRename(cmd: RenameModel, from: RegisteredModel, to: RegisteredModel): { from: ModelEvent[]; to: ModelEvent[] } {
  const d = cmd.data;
  requireModel(from, d.name);
  const newName = validateModelName(d.newName);
  if (newName === from.name) throw new ValidationFailed(`model ${newName} already has that name`, { field: 'newName' });
  if (to.registered) throw new ConcurrencyConflict(`model ${newName} already exists`, { model: newName });
  refuseWhileDeployed(from.name, 'rename', d.deployed);
  if (d.gated)
    throw new IllegalTransition(`cannot rename model ${from.name}: its promotion gates and approvals are recorded under its name`, {
      model: from.name,
    });
  const versions: Record<string, { stage: ModelStage; deleted: boolean; runId: string }> = {};
  for (const [n, v] of Object.entries(from.versions)) versions[n] = { stage: v.stage, deleted: v.deleted, runId: v.runId ?? '' };
  return {
    from: [{ type: 'ModelRenamed', data: { name: from.name, newName, at: d.at } }],
    to: [
      {
        type: 'ModelRenamedFrom',
        data: { name: newName, previousName: from.name, lastVersion: from.lastVersion, versions, aliases: { ...from.aliases }, at: d.at },
      },
    ],
  };
}

export function decideModel(cmd: ModelCommand, model: RegisteredModel): ModelEvent[] {
  switch (cmd.type) {
    case 'RegisterModel': {
      const d = cmd.data;
      const name = validateModelName(d.name);
      if (model.registered) {
        const first = model.registration;
        if (first && d.retry && withinRetryWindow(d.retry, first.fingerprint, first.at, d.at) && !d.retry.delivered?.includes(0)) return [];
        throw new ConcurrencyConflict(`model ${name} already exists`, { model: name });
      }
      return [
        {
          type: 'ModelRegistered',
          data: {
            name,
            description: validateText('description', d.description, MAX_CARD_FIELD, { allowEmpty: true }),
            tags: validateTags('tag', d.tags),
            card: validateCard(d.card),
            at: d.at,
            ...(d.retry ? { requestFingerprint: d.retry.fingerprint } : {}),
          },
        },
      ];
    }
    case 'CreateModelVersion': {
      const d = cmd.data;
      requireModel(model, d.name);
      if (retriedCreation(model, d.retry, d.at) !== null) return [];
      validateArtifactPath(d.artifactPath);
      if (d.artifact === null)
        throw new NotFound(`run ${d.runId} has no artifact "${d.artifactPath}"`, { runId: d.runId, path: d.artifactPath });
      if (d.signature !== null && JSON.stringify(d.signature).length > MAX_SIGNATURE_BYTES)
        throw new ValidationFailed(`signature is larger than ${MAX_SIGNATURE_BYTES} bytes`, { field: 'signature' });
      return [
        {
          type: 'ModelVersionCreated',
          data: {
            name: model.name,
            // Decided on the stream's latest state and appended at its revision: a concurrent
            // creation makes the append fail and this decision re-run, so numbers have no gaps.
            version: model.lastVersion + 1,
            runId: d.runId,
            artifactPath: d.artifactPath,
            sha256: d.artifact.sha256,
            size: d.artifact.size,
            format: d.format === null ? null : validateText('format', d.format, MAX_NAME_LENGTH),
            signature: d.signature,
            description: validateText('description', d.description, MAX_CARD_FIELD, { allowEmpty: true }),
            at: d.at,
            ...(d.source != null ? { source: validateText('source', d.source, MAX_SOURCE_LENGTH) } : {}),
            ...(d.tags && d.tags.length > 0 ? { tags: validateTags('tag', d.tags) } : {}),
            ...(d.loggedModelId != null ? { loggedModelId: validateText('loggedModelId', d.loggedModelId, MAX_NAME_LENGTH) } : {}),
            ...(d.retry ? { requestFingerprint: d.retry.fingerprint } : {}),
          },
        },
      ];
    }
    case 'UpdateModelDescription': {
      const d = cmd.data;
      requireModel(model, d.name);
      const description = validateText('description', d.description, MAX_CARD_FIELD, { allowEmpty: true });
      return [{ type: 'ModelDescriptionUpdated', data: { name: model.name, description, at: d.at } }];
    }
    case 'SetModelTag': {
      const d = cmd.data;
      requireModel(model, d.name);
      return [{ type: 'ModelTagSet', data: { name: model.name, ...validateTag('tag', d.key, d.value), at: d.at } }];
    }
    case 'DeleteModelTag': {
      const d = cmd.data;
      requireModel(model, d.name);
      return [{ type: 'ModelTagDeleted', data: { name: model.name, key: validateKey('tag', d.key), at: d.at } }];
    }
    case 'UpdateModelVersionDescription': {
      const d = cmd.data;
      requireModel(model, d.name);
      requireVersion(model, d.version);
      const description = validateText('description', d.description, MAX_CARD_FIELD, { allowEmpty: true });
      return [{ type: 'ModelVersionDescriptionUpdated', data: { name: model.name, version: d.version, description, at: d.at } }];
    }
    case 'SetModelVersionTag': {
      const d = cmd.data;
      requireModel(model, d.name);
      requireVersion(model, d.version);
      return [{ type: 'ModelVersionTagSet', data: { name: model.name, version: d.version, ...validateTag('tag', d.key, d.value), at: d.at } }];
    }
    case 'DeleteModelVersionTag': {
      const d = cmd.data;
      requireModel(model, d.name);
      requireVersion(model, d.version);
      return [{ type: 'ModelVersionTagDeleted', data: { name: model.name, version: d.version, key: validateKey('tag', d.key), at: d.at } }];
    }
    case 'DeleteModel': {
      const d = cmd.data;
      requireModel(model, d.name);
      refuseWhileDeployed(model.name, 'delete', d.deployed);
      return [{ type: 'ModelDeleted', data: { name: model.name, at: d.at } }];
    }
    case 'SetModelAlias': {
      const d = cmd.data;
      requireModel(model, d.name);
      const alias = validateAlias(d.alias);
      requireVersion(model, d.version);
      checkHolder(model, alias, d.expectedCurrentVersion);
      const previous = model.aliases[alias] ?? null;
      if (previous === d.version) return [];
      return [{ type: 'ModelAliasSet', data: { name: model.name, alias, version: d.version, previousVersion: previous, at: d.at } }];
    }
    case 'RemoveModelAlias': {
      const d = cmd.data;
      requireModel(model, d.name);
      const alias = validateAlias(d.alias);
      checkHolder(model, alias, d.expectedCurrentVersion);
      const version = model.aliases[alias];
      if (version === undefined) throw new NotFound(`model ${model.name} has no alias "${alias}"`, { model: model.name, alias });
      return [{ type: 'ModelAliasRemoved', data: { name: model.name, alias, version, at: d.at } }];
    }
    case 'TransitionModelVersionStage': {
      const d = cmd.data;
      requireModel(model, d.name);
      if (!isModelStage(d.stage)) throw new ValidationFailed(`stage must be one of ${MODEL_STAGES.join(', ')}`, { field: 'stage' });
      const current = requireVersion(model, d.version).stage;
      if (d.expectedCurrentStage !== undefined && d.expectedCurrentStage !== current)
        throw new ConcurrencyConflict(`version ${d.version} of ${model.name} is in ${current}, not ${d.expectedCurrentStage}`, {
          model: model.name,
          version: d.version,
          expectedCurrentStage: d.expectedCurrentStage,
          actualStage: current,
        });
      const events: ModelEvent[] = [];
      if (current !== d.stage)
        events.push({ type: 'ModelVersionStageChanged', data: { name: model.name, version: d.version, fromStage: current, toStage: d.stage, at: d.at } });
      if (d.archiveExisting && d.stage !== 'None' && d.stage !== 'Archived')
        for (const [n, v] of Object.entries(model.versions))
          if (Number(n) !== d.version && !v.deleted && v.stage === d.stage)
            events.push({ type: 'ModelVersionStageChanged', data: { name: model.name, version: Number(n), fromStage: v.stage, toStage: 'Archived', at: d.at } });
      return events;
    }
    case 'DeleteModelVersion': {
      const d = cmd.data;
      requireModel(model, d.name);
      requireVersion(model, d.version);
      const held = Object.entries(model.aliases).filter(([, v]) => v === d.version).map(([a]) => a);
      // Something resolves this version by name; deleting it would break that silently.
      if (held.length > 0)
        throw new IllegalTransition(`version ${d.version} of ${model.name} holds alias ${held.join(', ')}; move or remove it first`, {
          model: model.name,
          version: d.version,
          aliases: held,
        });
      const deployedIn = d.deployedIn ?? [];
      // An environment serving this content would lose the record of what it runs.
      if (deployedIn.length > 0)
        throw new IllegalTransition(`version ${d.version} of ${model.name} is deployed in ${deployedIn.join(', ')}; deploy another version first`, {
          model: model.name,
          version: d.version,
          environments: [...deployedIn],
        });
      return [{ type: 'ModelVersionDeleted', data: { name: model.name, version: d.version, at: d.at } }];
    }
    default:
      return assertNever(cmd);
  }
}

export function evolveModel(model: RegisteredModel, ev: ModelEvent): RegisteredModel {
  // The model's stream also carries promotion events (gates, approvals, refusals); none moves a pointer.
  if (!isModelEvent(ev)) return model;
  switch (ev.type) {
    case 'ModelRegistered': {
      const fp = ev.data.requestFingerprint;
      return { ...initialModel(), name: ev.data.name, registered: true, ...(fp ? { registration: { fingerprint: fp, at: ev.data.at } } : {}) };
    }
    case 'ModelVersionCreated': {
      const d = ev.data;
      const next: RegisteredModel = {
        ...model,
        lastVersion: Math.max(model.lastVersion, d.version),
        versions: { ...model.versions, [d.version]: { stage: 'None', deleted: false, runId: d.runId } },
      };
      if (d.requestFingerprint)
        next.recentCreations = [...(model.recentCreations ?? []), { fingerprint: d.requestFingerprint, version: d.version, at: d.at }].slice(
          -RECENT_CREATIONS,
        );
      return next;
    }
    case 'ModelDeleted':
    case 'ModelRenamed':
      // The name is free: registering it again starts a new model on this stream.
      return { ...initialModel(), name: model.name };
    case 'ModelRenamedFrom': {
      const d = ev.data;
      const versions: Record<number, ModelVersionState> = {};
      for (const [n, v] of Object.entries(d.versions)) versions[Number(n)] = { ...v };
      return { ...initialModel(), name: d.name, registered: true, lastVersion: d.lastVersion, versions, aliases: { ...d.aliases } };
    }
    case 'ModelDescriptionUpdated':
    case 'ModelTagSet':
    case 'ModelTagDeleted':
    case 'ModelVersionDescriptionUpdated':
    case 'ModelVersionTagSet':
    case 'ModelVersionTagDeleted':
      return model;
    case 'ModelAliasSet':
      return { ...model, aliases: { ...model.aliases, [ev.data.alias]: ev.data.version } };
    case 'ModelAliasRemoved': {
      const { [ev.data.alias]: _gone, ...aliases } = model.aliases;
      return { ...model, aliases };
    }
    case 'ModelVersionStageChanged': {
      const v = model.versions[ev.data.version];
      return v ? { ...model, versions: { ...model.versions, [ev.data.version]: { ...v, stage: ev.data.toStage } } } : model;
    }
    case 'ModelVersionDeleted': {
      const v = model.versions[ev.data.version];
      return v ? { ...model, versions: { ...model.versions, [ev.data.version]: { ...v, deleted: true } } } : model;
    }
    default:
      return assertNever(ev);
  }
}

export const modelDecider: Decider<RegisteredModel, ModelCommand, ModelEvent> = {
  decide: decideModel,
  evolve: evolveModel,
  initialState: initialModel,
};

import {
  datasetStream,
  environmentStream,
  experimentStream,
  modelStream,
  runLineageStream,
  runStream,
  tokenStream,
  userStream,
  webhookStream,
  type DatasetEvent,
  type DomainEvent,
  type EnvironmentEvent,
  type ExperimentEvent,
  type JsonMetricValue,
  type RecordedEvent,
  type ModelEvent,
  type RunEvent,
  type RunLineageEvent,
  type TokenEvent,
  type UserEvent,
  type WebhookEvent,
} from '@chronicle/domain';
import { createSqliteEventStore, type EventStore } from '@chronicle/event-store';
import { rng } from '../runner/generated-history.test-support.js';

// Test support for time travel (excluded from the build): a history touching every read model,
// written as domain events straight to the log (the projections' input), so every kind of
// change the read models know (updates, deletes, re-inserts, renames, several changes in one
// event, metric batches large enough for the downsampling tiers) happens at known positions.

type AnyEvent = RunEvent | ExperimentEvent | ModelEvent | DatasetEvent | EnvironmentEvent | RunLineageEvent | UserEvent | TokenEvent | WebhookEvent;

export interface GeneratedHistory {
  store: EventStore;
  head: number;
  runs: string[];
  experiments: string[];
  models: string[];
  datasets: string[];
  environments: string[];
  /** Positions worth asking about: each kind of event, mid-batch ones included. */
  positionsOfType: Map<string, number[]>;
}

export async function generateRichHistory(path: string, seed: number, steps: number): Promise<GeneratedHistory> {
  let clock = 1_700_000_000_000;
  const store = createSqliteEventStore({ path, clock: () => (clock += 1 + (clock % 7)) });
  const rand = rng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
  const chance = (p: number) => rand() < p;
  const at = () => clock;
  const positionsOfType = new Map<string, number[]>();

  async function emit(stream: string, ...events: AnyEvent[]): Promise<RecordedEvent[]> {
    const res = await store.append([{ stream, expectedRevision: 'any', events: events as DomainEvent[] }], {
      actor: pick(['user:ada', 'user:bob', 'system:automation']),
    });
    for (const e of res.events) {
      const list = positionsOfType.get(e.type) ?? [];
      list.push(e.position);
      positionsOfType.set(e.type, list);
    }
    return res.events;
  }

  const experiments: string[] = [];
  const expNames = new Map<string, string>();
  const runs: string[] = [];
  const runExperiment = new Map<string, string>();
  const models: string[] = [];
  const versionsOf = new Map<string, number[]>();
  const aliasesOf = new Map<string, Set<string>>();
  const datasets: string[] = [];
  const datasetVersions = new Map<string, number>();
  const environments: string[] = [];
  const deployments: { id: string; env: string; status: 'requested' | 'started' | 'done' }[] = [];
  const tokens: string[] = [];
  const webhooks: string[] = [];
  let serial = 0;

  const metricValue = (): JsonMetricValue => (chance(0.02) ? 'NaN' : chance(0.01) ? 'Infinity' : chance(0.01) ? '-Infinity' : Math.round(rand() * 1e6) / 1e6);
  // Timestamps follow steps, so a step logged again (out of order, or repeated) ties on both:
  // the "latest point" rules for ties (last logged wins) are exercised within and across events.
  const series = (key: string, n: number, startStep: number) => {
    const steps = Array.from({ length: n }, (_, i) => (chance(0.03) ? Math.floor(rand() * (startStep + 1)) : startStep + i));
    if (chance(0.1)) steps.push(steps[steps.length - 1]!);
    return { key, steps, values: steps.map(metricValue), timestamps: steps.map((st) => 1_700_000_000_000 + st) };
  };
  const stepOf = new Map<string, number>();
  const nextSteps = (runId: string, key: string, n: number) => {
    const id = `${runId}/${key}`;
    const from = stepOf.get(id) ?? 0;
    stepOf.set(id, from + n);
    return from;
  };

  for (let i = 0; i < 3; i++) {
    const experimentId = `e${i}`;
    experiments.push(experimentId);
    expNames.set(experimentId, `exp-${i}`);
    await emit(experimentStream(experimentId), { type: 'ExperimentCreated', data: { experimentId, name: `exp-${i}`, description: '', tags: [{ key: 'i', value: String(i) }], createdAt: at() } });
  }
  await emit(userStream('ada'), { type: 'UserCreated', data: { username: 'ada', role: 'admin', at: at() } });
  await emit(userStream('bob'), { type: 'UserCreated', data: { username: 'bob', role: 'viewer', at: at() } });

  for (let step = 0; step < steps; step++) {
    const r = rand();
    if (r < 0.08 || runs.length < 3) {
      const runId = `r${runs.length}`;
      const experimentId = pick(experiments);
      const parentRunId = runs.length > 2 && chance(0.2) ? pick(runs.filter((x) => runExperiment.get(x) === experimentId)) ?? null : null;
      runs.push(runId);
      runExperiment.set(runId, experimentId);
      await emit(
        runStream(runId),
        { type: 'RunStarted', data: { runId, experimentId, name: `run-${step}`, tags: [{ key: 'k', value: 'v' }], parentRunId, source: { gitCommit: 'abc' }, environment: { py: '3.12' }, startTime: at() - (step % 5) } },
        // Two changes of the same row inside one event's append: the version kept is the last.
        ...(chance(0.3) ? [{ type: 'RunTagsSet' as const, data: { runId, tags: [{ key: 'k', value: 'w' }] } }] : []),
      );
    } else if (r < 0.45) {
      const runId = pick(runs);
      const keys = chance(0.5) ? ['loss'] : ['loss', 'acc'];
      // A key twice in one batch happens when clients merge buffers.
      if (chance(0.05)) keys.push('loss');
      await emit(runStream(runId), {
        type: 'RunMetricsLogged',
        data: { runId, series: keys.map((key) => series(key, 1 + Math.floor(rand() * 40), nextSteps(runId, key, 40))) },
      });
    } else if (r < 0.47) {
      // Big batches on one run, so its series crosses RAW_LIMIT (50k points) and reads tiers.
      const runId = runs[0]!;
      const n = 9_000 + Math.floor(rand() * 9_000);
      await emit(runStream(runId), { type: 'RunMetricsLogged', data: { runId, series: [series('big', n, nextSteps(runId, 'big', n))] } });
    } else if (r < 0.53) {
      const runId = pick(runs);
      await emit(runStream(runId), { type: 'RunParamsLogged', data: { runId, params: [{ key: `p${step % 4}`, value: String(step) }] } });
    } else if (r < 0.58) {
      const runId = pick(runs);
      if (chance(0.6)) await emit(runStream(runId), { type: 'RunTagsSet', data: { runId, tags: [{ key: pick(['x', 'y']), value: String(step) }] } });
      else await emit(runStream(runId), { type: 'RunTagDeleted', data: { runId, key: pick(['x', 'y', 'k']) } });
    } else if (r < 0.6) {
      const runId = pick(runs);
      await emit(runStream(runId), { type: 'RunFinished', data: { runId, status: pick(['FINISHED', 'FAILED', 'KILLED'] as const), endTime: at() } });
    } else if (r < 0.62) {
      const runId = pick(runs);
      await emit(runStream(runId), chance(0.5) ? { type: 'RunDeleted', data: { runId, at: at() } } : { type: 'RunRestored', data: { runId, at: at() } });
    } else if (r < 0.63) {
      const runId = pick(runs);
      const to = pick(experiments);
      await emit(runStream(runId), { type: 'RunMoved', data: { runId, fromExperimentId: runExperiment.get(runId)!, toExperimentId: to } });
      runExperiment.set(runId, to);
    } else if (r < 0.64) {
      const runId = pick(runs);
      await emit(runStream(runId), { type: 'RunRenamed', data: { runId, name: `renamed-${step}` } });
    } else if (r < 0.66) {
      const runId = pick(runs);
      // Re-logging a path replaces the row (INSERT OR REPLACE: no delete trigger fires).
      await emit(runStream(runId), { type: 'RunArtifactLogged', data: { runId, path: pick(['model.pkl', 'plot.png']), sha256: String(step).padStart(64, '0'), size: step, contentType: 'application/octet-stream' } });
    } else if (r < 0.68) {
      const experimentId = pick(experiments);
      const roll = rand();
      if (roll < 0.4) await emit(experimentStream(experimentId), { type: 'ExperimentTagsSet', data: { experimentId, tags: [{ key: 'stage', value: String(step) }] } });
      else if (roll < 0.6) await emit(experimentStream(experimentId), { type: 'ExperimentDescribed', data: { experimentId, description: `d${step}` } });
      else if (roll < 0.8) await emit(experimentStream(experimentId), { type: 'ExperimentDeleted', data: { experimentId, at: at() } });
      else await emit(experimentStream(experimentId), { type: 'ExperimentRestored', data: { experimentId, at: at() } });
    } else if (r < 0.73) {
      // The registry: register, new versions, aliases moved and removed, stages, deletions.
      if (models.length === 0 || chance(0.15)) {
        const name = `m${models.length}`;
        models.push(name);
        versionsOf.set(name, []);
        aliasesOf.set(name, new Set());
        const card = { intendedUse: 'scoring', limitations: '', trainingData: '', evaluation: '', owners: ['ada'] };
        await emit(modelStream(name), { type: 'ModelRegistered', data: { name, description: '', tags: [], card, at: at() } });
        continue;
      }
      const name = pick(models);
      const versions = versionsOf.get(name)!;
      const roll = rand();
      if (versions.length === 0 || roll < 0.3) {
        const version = versions.length + 1;
        versions.push(version);
        await emit(modelStream(name), {
          type: 'ModelVersionCreated',
          data: { name, version, runId: pick(runs), artifactPath: 'model.pkl', sha256: String(version).padStart(64, 'a'), size: 10, format: null, signature: null, description: '', at: at() },
        });
      } else if (roll < 0.6) {
        const alias = pick(['champion', 'challenger']);
        aliasesOf.get(name)!.add(alias);
        await emit(modelStream(name), { type: 'ModelAliasSet', data: { name, alias, version: pick(versions), previousVersion: null, at: at() } });
      } else if (roll < 0.7 && aliasesOf.get(name)!.size > 0) {
        const alias = pick([...aliasesOf.get(name)!]);
        aliasesOf.get(name)!.delete(alias);
        await emit(modelStream(name), { type: 'ModelAliasRemoved', data: { name, alias, version: 1, at: at() } });
      } else if (roll < 0.9) {
        const stages = ['None', 'Staging', 'Production', 'Archived'] as const;
        await emit(modelStream(name), { type: 'ModelVersionStageChanged', data: { name, version: pick(versions), fromStage: 'None', toStage: pick(stages), at: at() } });
      } else {
        await emit(modelStream(name), { type: 'ModelVersionDeleted', data: { name, version: pick(versions), at: at() } });
      }
    } else if (r < 0.77) {
      // Datasets: versions, retagging (a tag moves: INSERT OR REPLACE), deprecation.
      if (datasets.length === 0 || chance(0.2)) {
        const name = `d${datasets.length}`;
        datasets.push(name);
        datasetVersions.set(name, 0);
        await emit(datasetStream(name), { type: 'DatasetCreated', data: { name, description: 'data', at: at() } });
        continue;
      }
      const name = pick(datasets);
      const latest = datasetVersions.get(name)!;
      const roll = rand();
      if (latest === 0 || roll < 0.5) {
        const version = latest + 1;
        datasetVersions.set(name, version);
        await emit(datasetStream(name), {
          type: 'DatasetVersionCommitted',
          data: { name, version, versionId: `${name}@${version}`, parentVersion: latest === 0 ? null : latest, manifestSha256: String(version).padStart(64, 'b'), fileCount: version, totalBytes: version * 100, tabular: [], message: `v${version}`, author: 'ada', tags: [], at: at() },
        });
      } else if (roll < 0.8) {
        await emit(datasetStream(name), { type: 'DatasetVersionTagged', data: { name, version: 1 + Math.floor(rand() * latest), tag: pick(['prod', 'golden']), at: at() } });
      } else {
        await emit(datasetStream(name), { type: 'DatasetVersionDeprecated', data: { name, version: 1 + Math.floor(rand() * latest), reason: 'bad rows', at: at() } });
      }
    } else if (r < 0.79) {
      const committed = datasets.filter((d) => datasetVersions.get(d)! > 0);
      if (committed.length === 0) continue;
      const runId = pick(runs);
      const d = pick(committed);
      const v = 1 + Math.floor(rand() * datasetVersions.get(d)!);
      const ref = { datasetName: d, versionId: `${d}@${v}`, versionNumber: v };
      await emit(
        runLineageStream(runId),
        chance(0.7)
          ? { type: 'RunInputsDeclared', data: { runId, inputs: [{ ...ref, role: pick(['train', 'test'] as const) }], at: at() } }
          : { type: 'RunOutputsDeclared', data: { runId, outputs: [ref], at: at() } },
      );
    } else if (r < 0.85) {
      // Deployments: requested, started, attempts, succeeded or failed; rollbacks.
      if (environments.length === 0 || chance(0.1)) {
        const name = `env${environments.length}`;
        environments.push(name);
        await emit(environmentStream(name), {
          type: 'EnvironmentCreated',
          data: { name, target: { kind: 'command', argv: ['deploy.sh'], timeoutMs: 1000 }, healthCheck: null, at: at() },
        });
        continue;
      }
      const open = deployments.filter((d) => d.status !== 'done');
      const withVersions = models.filter((m) => versionsOf.get(m)!.length > 0);
      if (open.length > 0 && chance(0.7)) {
        const d = pick(open);
        if (d.status === 'requested') {
          d.status = 'started';
          await emit(environmentStream(d.env), { type: 'DeploymentStarted', data: { environment: d.env, deploymentId: d.id, at: at() } });
        } else {
          d.status = 'done';
          const attempt = { attempt: 1, phase: 'deploy' as const, statusCode: null, exitCode: 0, durationMs: 5, error: null, output: 'ok' };
          await emit(
            environmentStream(d.env),
            { type: 'DeploymentAttemptRecorded', data: { ...attempt, environment: d.env, deploymentId: d.id, at: at() } },
            chance(0.75)
              ? { type: 'DeploymentSucceeded', data: { environment: d.env, deploymentId: d.id, at: at() } }
              : { type: 'DeploymentFailed', data: { environment: d.env, deploymentId: d.id, outcome: 'failed', error: 'exit 1', at: at() } },
          );
        }
      } else if (withVersions.length > 0) {
        const env = pick(environments);
        const model = pick(withVersions);
        const version = pick(versionsOf.get(model)!);
        const id = `dep${serial++}`;
        const previous = deployments.filter((d) => d.env === env);
        const rollbackOf = previous.length > 0 && chance(0.3) ? previous[previous.length - 1]!.id : null;
        deployments.push({ id, env, status: 'requested' });
        await emit(environmentStream(env), {
          type: 'DeploymentRequested',
          data: { environment: env, deploymentId: id, model, version, sha256: String(version).padStart(64, 'a'), artifactPath: 'model.pkl', reason: 'release', rollbackOf, restores: null, at: at() },
        });
      }
    } else if (r < 0.88) {
      const roll = rand();
      if (roll < 0.4) {
        const tokenId = `tok${serial++}`;
        tokens.push(tokenId);
        await emit(tokenStream(tokenId), { type: 'TokenIssued', data: { tokenId, username: pick(['ada', 'bob']), name: 'ci', secretHash: tokenId.padEnd(64, 'f'), issuedAt: at(), expiresAt: null } });
      } else if (roll < 0.6 && tokens.length > 0) {
        const tokenId = pick(tokens);
        await emit(tokenStream(tokenId), { type: 'TokenRevoked', data: { tokenId, at: at() } });
      } else {
        const username = pick(['ada', 'bob']);
        await emit(userStream(username), { type: 'UserRoleChanged', data: { username, role: pick(['admin', 'maintainer', 'member', 'viewer'] as const) } });
      }
    } else if (r < 0.9) {
      const roll = rand();
      if (webhooks.length === 0 || roll < 0.3) {
        const webhookId = `wh${serial++}`;
        webhooks.push(webhookId);
        await emit(webhookStream(webhookId), { type: 'WebhookCreated', data: { webhookId, url: 'http://127.0.0.1:9/hook', events: ['ALIAS_MOVED'], secret: 's', at: at() } });
      } else if (roll < 0.5) {
        await emit(webhookStream(pick(webhooks)), { type: 'WebhookDeleted', data: { webhookId: pick(webhooks), at: at() } });
      } else {
        const webhookId = pick(webhooks);
        await emit(webhookStream(webhookId), {
          type: 'WebhookDeliveryAttempted',
          data: { webhookId, deliveryId: `del${step}`, kind: 'ALIAS_MOVED', attempt: 1, ok: chance(0.5), statusCode: 200, durationMs: 3, error: null, responseSnippet: '', at: at() },
        });
      }
    } else {
      // A quiet stretch of params, so some positions fall between changes of everything else.
      const runId = pick(runs);
      await emit(runStream(runId), { type: 'RunParamsLogged', data: { runId, params: [{ key: `q${step}`, value: '1' }] } });
    }
  }
  return { store, head: await store.headPosition(), runs, experiments, models, datasets, environments, positionsOfType };
}

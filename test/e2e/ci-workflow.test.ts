// The example GitHub Actions workflow in docs/examples, run for real: its `run:` steps execute in
// bash, in job order, against a real server, with a `chronicle` on PATH that is the built CLI.
// GitHub's own steps (`uses:`, installing the CLI from npm) are the only ones left out; the
// `${{ ... }}` expressions are resolved the way Actions does for the ones the file uses.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { cliMain, gql, repoRoot, startChronicle, type ChronicleProcess } from '../support/chronicle-process.js';

interface Step {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
}
interface Job {
  needs?: string;
  outputs?: Record<string, string>;
  steps: Step[];
}
interface Workflow {
  env: Record<string, string>;
  jobs: Record<string, Job>;
}

const workflow = parse(readFileSync(join(repoRoot, 'docs/examples/github-actions-promote.yml'), 'utf8')) as Workflow;

let server: ChronicleProcess;
let work: string;
let deployedLog: string;

/** `key=value` lines that a step appended to $GITHUB_OUTPUT. */
const readOutputs = (file: string) =>
  Object.fromEntries(
    (existsSync(file) ? readFileSync(file, 'utf8') : '')
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );

/** Runs every job of the workflow in order; returns each job's outputs, or throws at the first failing step. */
function runWorkflow(env: Record<string, string>): Record<string, Record<string, string>> {
  const jobOutputs: Record<string, Record<string, string>> = {};
  for (const [jobName, job] of Object.entries(workflow.jobs)) {
    const stepOutputs: Record<string, Record<string, string>> = {};
    const resolve = (text: string) =>
      text.replace(/\$\{\{\s*([^}]+?)\s*\}\}/g, (_m, expr: string) => {
        const parts = expr.split('.');
        if (parts[0] === 'secrets') return env[parts[1]!] ?? '';
        if (parts[0] === 'steps' && parts[2] === 'outputs') return stepOutputs[parts[1]!]?.[parts[3]!] ?? '';
        if (parts[0] === 'needs' && parts[2] === 'outputs') return jobOutputs[parts[1]!]?.[parts[3]!] ?? '';
        throw new Error(`the workflow uses an expression this test does not resolve: ${expr}`);
      });
    for (const [i, step] of job.steps.entries()) {
      if (!step.run || /npm install -g/.test(step.run)) continue;
      const outputFile = join(work, `${jobName}-${i}.out`);
      const res = spawnSync('bash', ['-eo', 'pipefail', '-c', resolve(step.run)], {
        cwd: work,
        env: {
          ...process.env,
          ...Object.fromEntries(Object.entries(workflow.env).map(([k, v]) => [k, resolve(v)])),
          PATH: `${join(work, 'bin')}:${process.env['PATH']}`,
          GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
          GITHUB_OUTPUT: outputFile,
        },
        encoding: 'utf8',
        timeout: 60_000,
      });
      if (res.status !== 0)
        throw new Error(`step "${step.name ?? step.run}" of job ${jobName} exited ${res.status}:\n${res.stdout}\n${res.stderr}`);
      if (step.id) stepOutputs[step.id] = readOutputs(outputFile);
    }
    jobOutputs[jobName] = Object.fromEntries(Object.entries(job.outputs ?? {}).map(([k, v]) => [k, resolve(v)]));
  }
  return jobOutputs;
}

beforeAll(async () => {
  server = await startChronicle({ env: { CHRONICLE_LOOPBACK_ROLE: 'none' } });
  work = mkdtempSync(join(tmpdir(), 'chronicle-workflow-'));
  deployedLog = join(work, 'deployed.log');
  mkdirSync(join(work, 'bin'));
  // What `npm install -g @chronicle/cli` would put on PATH.
  writeFileSync(join(work, 'bin', 'chronicle'), `#!/bin/sh\nexec "${process.execPath}" "${cliMain}" "$@"\n`);
  chmodSync(join(work, 'bin', 'chronicle'), 0o755);
  // The project's training script: logs its metrics through the CLI and writes the model file.
  writeFileSync(
    join(work, 'train.py'),
    [
      'import os, subprocess, sys',
      'run = sys.argv[sys.argv.index("--run-id") + 1]',
      'auc = os.environ.get("TRAIN_AUC", "0.93")',
      'subprocess.run(["chronicle", "runs", "log-metric", run, f"auc={auc}", "loss=0.21"], check=True)',
      'open("model.bin", "wb").write(b"weights trained at auc " + auc.encode())',
      '',
    ].join('\n'),
  );
  writeFileSync(join(work, 'bin', 'python'), `#!/bin/sh\nexec python3 "$@"\n`);
  chmodSync(join(work, 'bin', 'python'), 0o755);
  const deployScript = join(work, 'deploy.sh');
  writeFileSync(deployScript, `#!/bin/sh\necho "$CHRONICLE_MODEL $CHRONICLE_MODEL_VERSION $CHRONICLE_ARTIFACT_SHA256" >> "${deployedLog}"\n`);
  chmodSync(deployScript, 0o755);

  const admin = { authorization: `Bearer ${server.adminToken}` };
  const setup = async (query: string) => expect((await gql(server.url, query, {}, admin)).body.errors).toBeUndefined();
  await setup('mutation { createExperiment(input: { name: "churn" }) { id } }');
  await setup('mutation { registerModel(input: { name: "churn" }) { name } }');
  await setup('mutation { setPromotionGates(model: "churn", target: "champion", metricRules: ["metrics.auc >= 0.9"]) { version } }');
  execFileSync(process.execPath, [cliMain, 'env', 'create', 'production', '--command', deployScript], {
    env: { ...process.env, CHRONICLE_URL: server.url, CHRONICLE_TOKEN: server.adminToken },
  });
}, 60_000);

afterAll(async () => {
  await server?.dispose();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the example GitHub Actions workflow (docs/examples/github-actions-promote.yml)', () => {
  const env = () => ({ CHRONICLE_URL: server.url, CHRONICLE_TOKEN: server.adminToken });

  it('trains, registers, passes the gate, promotes and deploys a good model', async () => {
    const outputs = runWorkflow(env());
    expect(outputs['train']).toEqual({ version: '1' });
    const model = await gql(server.url, '{ model(name: "churn") { aliases { alias version } } }', {}, { authorization: `Bearer ${server.adminToken}` });
    expect(model.body.data.model.aliases).toEqual([{ alias: 'champion', version: 1 }]);
    expect(readFileSync(deployedLog, 'utf8')).toMatch(/^churn 1 [0-9a-f]{64}\n$/);
  }, 120_000);

  it('stops at the gate step for a model that fails a rule: nothing is promoted or deployed', async () => {
    process.env['TRAIN_AUC'] = '0.7';
    try {
      expect(() => runWorkflow(env())).toThrow(/step "Check the gates[^"]*" of job promote exited 1/);
    } finally {
      delete process.env['TRAIN_AUC'];
    }
    const model = await gql(server.url, '{ model(name: "churn") { aliases { alias version } } }', {}, { authorization: `Bearer ${server.adminToken}` });
    expect(model.body.data.model.aliases).toEqual([{ alias: 'champion', version: 1 }]);
    expect(readFileSync(deployedLog, 'utf8').trim().split('\n')).toHaveLength(1);
  }, 120_000);
});

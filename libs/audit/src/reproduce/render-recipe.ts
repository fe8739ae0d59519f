import type { ReproductionRecipe } from './recipe.js';

const iso = (ms: number | null) => (ms === null ? '—' : new Date(ms).toISOString());
const cell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ');
const code = (s: string) => `\`${s.replaceAll('`', 'ˋ')}\``;
const fence = (body: string, lang = '') => {
  // A fence longer than any backtick run inside, so diffs holding ``` stay intact.
  const longest = Math.max(2, ...[...body.matchAll(/`+/g)].map((m) => m[0].length));
  const f = '`'.repeat(longest + 1);
  return `${f}${lang}\n${body.endsWith('\n') ? body : `${body}\n`}${f}`;
};

/** The recipe as Markdown a person can follow; every fact in it is also in the JSON form. */
export function renderRecipeMarkdown(r: ReproductionRecipe): string {
  const out: string[] = [];
  out.push(`# Reproduction recipe: run ${r.runId}${r.runName ? ` (${r.runName})` : ''}`, '');
  out.push(
    `- Experiment: ${r.experimentId}`,
    `- Started ${iso(r.startTime)} by ${r.startedBy}; status ${r.status}${r.endTime !== null ? `, ended ${iso(r.endTime)}` : ''}`,
    `- State as of log position ${r.asOf.position}${r.asOf.latest ? ' (the latest)' : ` of ${r.asOf.head}`}${r.asOf.recordedAt !== null ? `, recorded ${iso(r.asOf.recordedAt)}` : ''}`,
  );
  if (r.reproductionOf) out.push(`- This run is itself a reproduction of run ${r.reproductionOf}`);
  out.push('', '## Code', '');
  const c = r.code;
  out.push(
    `- Repository: ${c.repository ? code(c.repository) : 'not recorded'}`,
    `- Commit: ${c.commit ? code(c.commit) : 'not recorded'}${c.branch ? ` (branch ${code(c.branch)})` : ''}`,
    `- Working tree: ${c.dirty === null ? 'not recorded' : c.dirty ? 'had uncommitted changes' : 'clean'}`,
  );
  if (c.diffSha256) out.push(`- Diff SHA-256: ${code(c.diffSha256)}`);
  if (c.entryPoint) out.push(`- Entry point: ${code(c.entryPoint)}`);
  if (c.source) out.push(`- Source: ${code(c.source)}`);
  if (c.workingDir) out.push(`- Ran in: ${code(c.workingDir)} (relative to the repository root)`);
  out.push(`- Command: ${r.commandLine ? code(r.commandLine) : 'not recorded'}`);
  if (c.diff) out.push('', 'Uncommitted changes (apply with `git apply`):', '', fence(c.diff, 'diff'));
  out.push('', `## Params (${r.params.length})`, '');
  if (r.params.length === 0) out.push('None logged.');
  else out.push('| Key | Value |', '| --- | --- |', ...r.params.map((p) => `| ${cell(p.key)} | ${cell(p.value)} |`));
  out.push('', '## Seed', '', r.seed ? `${code(r.seed.key)} = ${code(r.seed.value)} (a ${r.seed.from})` : 'Not logged.');
  out.push('', `## Data (${r.datasets.length})`, '');
  if (r.datasets.length === 0) out.push('No dataset inputs were declared.');
  else {
    out.push('| Version | Role | Files | Bytes | Manifest SHA-256 | Check out |', '| --- | --- | --- | --- | --- | --- |');
    for (const d of r.datasets)
      out.push(
        `| ${d.versionId}${d.deprecated ? ' (deprecated)' : ''} | ${d.role} | ${d.fileCount ?? '?'} | ${d.totalBytes ?? '?'} | ${d.manifestSha256 ? code(d.manifestSha256) : 'unknown'} | ${code(d.checkoutCommand)} |`,
      );
  }
  out.push('', '## Environment', '');
  const e = r.environment;
  out.push(`- Runtimes: ${e.runtimes.length ? e.runtimes.map((x) => `${x.name} ${x.version}`).join(', ') : 'not recorded'}`);
  out.push(`- Lockfiles: ${e.lockfiles.length ? e.lockfiles.map((l) => `${code(l.path)} sha256 ${code(l.sha256)}`).join(', ') : 'not recorded'}`);
  if (Object.keys(e.recorded).length > 0) out.push('', fence(JSON.stringify(e.recorded, null, 2), 'json'));
  out.push('', `## Expected metrics (${r.expectedMetrics.length})`, '');
  if (r.expectedMetrics.length === 0) out.push('None logged.');
  else out.push('| Metric | Latest value | Step |', '| --- | --- | --- |', ...r.expectedMetrics.map((m) => `| ${cell(m.key)} | ${m.value} | ${m.step} |`));
  out.push('', '## Steps', '', fence(r.steps.join('\n'), 'sh'));
  out.push('', '## Missing', '');
  out.push(...(r.missing.length ? r.missing.map((m) => `- ${m}`) : ['Nothing: the recipe is complete.']));
  return `${out.join('\n')}\n`;
}

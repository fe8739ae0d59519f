// npm run bench: every performance target of the platform, each beside a baseline measured in
// the same run. Prints a Markdown report; BENCH_QUICK=1 shrinks the sizes for a smoke run.
import { benchAliasHistory } from './alias-history.bench.js';
import { benchAsOf } from './asof.bench.js';
import { benchArtifacts } from './artifacts.bench.js';
import { benchDatasets } from './datasets.bench.js';
import { benchIngest } from './ingest.bench.js';
import { benchReplay } from './replay.bench.js';
import { benchSearch } from './search.bench.js';
import { benchSeries } from './series.bench.js';
import { benchStartup } from './startup.bench.js';
import { benchVerify } from './verify.bench.js';
import { fmt, machine } from './support.js';

const quick = process.env.BENCH_QUICK === '1';
const only = (process.env.BENCH_ONLY ?? 'ingest,series,search,startup').split(',');
const lines: string[] = [];
const log = (s = '') => {
  lines.push(s);
  console.log(s);
};
const ms = (n: number) => `${n.toFixed(1)} ms`;

log(`## Run of ${new Date().toISOString().slice(0, 10)}${quick ? ' (quick sizes)' : ''}`);
log();
log(`Machine: ${machine()}`);
log();

if (only.includes('ingest')) {
  const points = quick ? 1_000_000 : 10_000_000;
  const r = await benchIngest(points, 10_000, 3);
  log(`### Bulk metric ingestion, end to end (${fmt(points)} points, batches of ${fmt(r.batch)}, ${r.concurrency} connections)`);
  log();
  log('| measure | figure | target |');
  log('| --- | --- | --- |');
  log(`| Chronicle: HTTP POST to acknowledged and queryable | ${fmt(r.pointsPerSecond, 0)} points/s | ≥ 250,000 points/s |`);
  log(`| baseline: prepared INSERTs straight into SQLite, 10k-row transactions | ${fmt(r.baselineRowsPerSecond, 0)} rows/s | |`);
  log(`| ratio Chronicle / baseline | ${r.ratio.toFixed(2)} | ≥ 0.5 |`);
  log(`| server peak RSS while ingesting | ${fmt(r.maxServerRssMb, 0)} MB | < 500 MB |`);
  log();
}

if (only.includes('series')) {
  const r = await benchSeries(quick ? 200_000 : 1_000_000, quick ? 100 : 300);
  log(`### metricSeries, one metric of ${fmt(r.points)} points, maxPoints 1000 (${r.series.n} queries)`);
  log();
  log('| measure | p50 | p99 | target |');
  log('| --- | --- | --- | --- |');
  log(`| metricSeries over HTTP (tier ${r.level}, ${r.returned} points returned) | ${ms(r.series.p50)} | ${ms(r.series.p99)} | p99 < 20 ms |`);
  log(`| baseline: \`{ __typename }\` round trip | ${ms(r.floor.p50)} | ${ms(r.floor.p99)} | |`);
  log(`| ratio p50 series / round trip | ${(r.series.p50 / r.floor.p50).toFixed(1)} | | |`);
  log();
}

if (only.includes('search')) {
  const r = await benchSearch(quick ? 2_000 : 10_000, quick ? 100 : 300);
  log(`### runs search, ${fmt(r.runs)} runs x 20 params x 10 metrics (${r.search.n} queries)`);
  log();
  log("Query: `filter: \"metrics.m0 > 0.5 and params.p3 = 'v3'\"`, `orderBy: [\"metrics.m1 DESC\"]`, `first: 50`, with each run's latest metrics.");
  log();
  log('| measure | p50 | p99 | target |');
  log('| --- | --- | --- | --- |');
  log(`| filtered, ordered search (${r.matched} runs on the page) | ${ms(r.search.p50)} | ${ms(r.search.p99)} | p99 < 50 ms |`);
  log(`| baseline: same page, no filter, default order | ${ms(r.unfiltered.p50)} | ${ms(r.unfiltered.p99)} | |`);
  log(`| baseline: \`{ __typename }\` round trip | ${ms(r.floor.p50)} | ${ms(r.floor.p99)} | |`);
  log(`| projecting the seeded history on first start | ${fmt(r.projectMs, 0)} ms | | |`);
  log();
}

if (only.includes('startup')) {
  const r = await benchStartup(quick ? 100 : 1024, 5);
  log(`### Server start to healthy (${r.withData.n} starts each)`);
  log();
  log('| measure | p50 | max | target |');
  log('| --- | --- | --- | --- |');
  log(`| data file of ${fmt(r.fileMb, 0)} MB (${fmt(r.events)} events) | ${ms(r.withData.p50)} | ${ms(r.withData.max)} | < 2 s |`);
  log(`| baseline: empty data directory (first start, bootstrap included) | ${ms(r.empty.p50)} | ${ms(r.empty.max)} | |`);
  log();
}

if (only.includes('verify')) {
  const r = await benchVerify(Number(process.env.BENCH_VERIFY_EVENTS ?? (quick ? 100_000 : 1_000_000)));
  log(`### Integrity verification, ${fmt(r.events)} events (${fmt(r.fileMb, 0)} MB file; written in ${fmt(r.writeMs / 1000)} s)`);
  log();
  log('| measure | MB/s | events/s | time | target |');
  log('| --- | --- | --- | --- | --- |');
  log(`| verifyLog: read, re-hash every chain, compare heads | ${fmt(r.verify.mbPerS)} | ${fmt(r.verify.eventsPerS, 0)} | ${fmt(r.verify.ms, 0)} ms | |`);
  log(`| baseline: plain SHA-256 over the same bytes, in memory | ${fmt(r.sha256.mbPerS)} | ${fmt(r.sha256.eventsPerS, 0)} | ${fmt(r.sha256.ms, 0)} ms | |`);
  log(`| ratio verify / raw hashing | ${r.ratio.toFixed(2)} | | | ≥ 0.6 |`);
  log();
}

if (only.includes('aliashistory')) {
  const r = await benchAliasHistory(quick ? 2_000 : 10_000, quick ? 100 : 300);
  log(`### aliasHistory at a random time, one alias moved ${fmt(r.moves)} times (${r.history.n} queries)`);
  log();
  log('| measure | p50 | p99 | target |');
  log('| --- | --- | --- | --- |');
  log(`| aliasHistory(model, alias, at) over HTTP | ${ms(r.history.p50)} | ${ms(r.history.p99)} | p99 < 20 ms |`);
  log(`| baseline: \`{ __typename }\` round trip | ${ms(r.floor.p50)} | ${ms(r.floor.p99)} | |`);
  log(`| server start, projecting the seeded history | ${fmt(r.projectMs, 0)} ms | | |`);
  log();
}

if (only.includes('artifacts')) {
  const r = await benchArtifacts(quick ? 256 << 20 : 1 << 30);
  log(`### Artifact transfer, one ${fmt(r.sizeMb, 0)} MB file to a run and back, through the SDK`);
  log();
  log('| measure | figure | target |');
  log('| --- | --- | --- |');
  log(`| baseline: \`cp\` of the same file, same disk, then \`sync\` | ${fmt(r.cpMbPerS, 0)} MB/s | |`);
  for (const [label, f] of [['same-host copy', r.sameHost], ['streamed over HTTP', r.streamed]] as const) {
    log(`| upload, ${label}: hashed, fsynced, recorded, then \`sync\` | ${fmt(f.uploadMbPerS, 0)} MB/s, **${f.uploadRatio.toFixed(2)}x** cp | ≥ 0.7x |`);
    log(`| download, ${label}: hash-checked, fsynced, then \`sync\` | ${fmt(f.downloadMbPerS, 0)} MB/s, **${f.downloadRatio.toFixed(2)}x** cp | ≥ 0.7x |`);
  }
  log(`| server RSS: before / peak during the transfers | ${fmt(r.idleRssMb, 0)} / ${fmt(r.peakRssMb, 0)} MB | flat |`);
  log();
}

if (only.includes('datasets')) {
  // BENCH_DATASETS_SMALL_ONLY=1: only the many-small-files commits (no large file, no lineage graph).
  const smallOnly = process.env.BENCH_DATASETS_SMALL_ONLY === '1';
  const sizes = quick ? { files: 10_000, bigBytes: 256 << 20, samples: 100 } : { files: 100_000, bigBytes: 2 * 1024 ** 3, samples: 300 };
  const r = await benchDatasets(smallOnly ? { ...sizes, bigBytes: 0, samples: 0 } : sizes);
  log(`### Dataset versioning: \`chronicle data commit\` to a local server, and lineage queries`);
  log();
  log('| measure | figure | target |');
  log('| --- | --- | --- |');
  log(`| first commit, ${fmt(r.files)} files of 1-10 KB (${fmt(r.totalMb, 0)} MB): hash, check, upload, record | ${fmt(r.commitMs / 1000, 1)} s | |`);
  log(`| baseline: \`find -type f -print0 \| xargs -0 sha256sum\` over the same files | ${fmt(r.sha256sumMs / 1000, 1)} s | |`);
  log(`| ratio commit / sha256sum | ${r.ratio.toFixed(2)} | ≤ 2 |`);
  log(`| second commit, same tree with 10 files changed | ${fmt(r.recommitMs / 1000, 2)} s | < 5 s |`);
  log(`| one ${fmt(r.bigMb, 0)} MB file, copied by the server (same host): commit throughput | ${fmt(r.bigCommitMbPerS, 0)} MB/s | |`);
  log(`| baseline: \`sha256sum\` of the same file | ${fmt(r.bigSha256sumMbPerS, 0)} MB/s | |`);
  log(`| ratio commit / sha256sum | **${r.bigRatio.toFixed(2)}** | ≥ 0.7 |`);
  log(`| another ${fmt(r.bigMb, 0)} MB file, streamed over HTTP (\`--no-same-host\`) | ${fmt(r.bigStreamedMbPerS, 0)} MB/s against ${fmt(r.bigStreamedSha256sumMbPerS, 0)} MB/s: **${r.bigStreamedRatio.toFixed(2)}** | ≥ 0.7 |`);
  log(`| lineage from a deployment, ${fmt(r.graphNodes)}-node graph (${r.lineage.n} queries) | p50 ${r.lineage.p50.toFixed(1)} ms, p99 ${r.lineage.p99.toFixed(1)} ms | p99 < 50 ms |`);
  log(`| impact of a dataset version, same graph | p50 ${r.impact.p50.toFixed(1)} ms, p99 ${r.impact.p99.toFixed(1)} ms | p99 < 50 ms |`);
  log();
}

if (only.includes('replay')) {
  const r = await benchReplay(Number(process.env.BENCH_REPLAY_EVENTS ?? (quick ? 1_000_000 : 10_000_000)));
  log(`### Replay of every read model, ${fmt(r.events)} events (${fmt(r.fileMb, 0)} MB file; written in ${fmt(r.writeMs / 1000)} s)`);
  log();
  log('| measure | events/s | time | target |');
  log('| --- | --- | --- | --- |');
  log(`| replay: rebuild every read model into a fresh file, swap in (${fmt(r.replay.rows)} rows) | ${fmt(r.replay.eventsPerS, 0)} | ${fmt(r.replay.ms, 0)} ms | ≥ 100,000 events/s |`);
  log(`| baseline: bare readAll of every event, JSON parsing included | ${fmt(r.bareRead.eventsPerS, 0)} | ${fmt(r.bareRead.ms, 0)} ms | |`);
  log(`| ratio replay / bare read (projection overhead) | ${r.ratio.toFixed(2)} | | |`);
  log();
}

if (only.includes('asof')) {
  const r = await benchAsOf(Number(process.env.BENCH_ASOF_EVENTS ?? (quick ? 100_000 : 1_000_000)), quick ? 100 : 300);
  log(`### Time travel: \`asOf\` queries at random positions of ${fmt(r.events)} events (${fmt(r.fileMb, 0)} MB file; written in ${fmt(r.writeMs / 1000)} s)`);
  log();
  log(`Each query ${r.queries[0]!.asOf.n} times at a random position, and as many times without \`asOf\` (now), over HTTP.`);
  log();
  log('| query | asOf p50 | asOf p99 | now p50 | now p99 | ratio p50 asOf / now | target |');
  log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const q of r.queries)
    log(`| ${q.name} | ${ms(q.asOf.p50)} | ${ms(q.asOf.p99)} | ${ms(q.now.p50)} | ${ms(q.now.p99)} | ${(q.asOf.p50 / q.now.p50).toFixed(1)} | p99 < 200 ms |`);
  log();
  log('| keeping the past (same log, same run) | events/s | time | |');
  log('| --- | --- | --- | --- |');
  log(`| replay without time travel | ${fmt(r.replay.without.eventsPerS, 0)} | ${fmt(r.replay.without.ms, 0)} ms | |`);
  log(`| replay with time travel (versions tables, metric history) | ${fmt(r.replay.withHistory.eventsPerS, 0)} | ${fmt(r.replay.withHistory.ms, 0)} ms | |`);
  log(`| ratio with / without | ${r.replay.ratio.toFixed(2)} | | |`);
  log(`| disk taken by the past (versions, metric history, their indexes) | ${fmt(r.historyMb, 0)} MB of ${fmt(r.fileMb, 0)} MB | | |`);
  log();
}

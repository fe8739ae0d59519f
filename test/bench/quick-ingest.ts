import { benchIngest } from './ingest.bench.js';
const r = await benchIngest(Number(process.env.POINTS ?? 1_000_000), 10_000, Number(process.env.CONC ?? 2));
console.log(JSON.stringify(r));

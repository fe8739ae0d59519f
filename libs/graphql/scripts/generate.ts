// Writes schema.graphql and src/generated/nexus-typegen.ts. Run: npm run schema
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSchema } from '../src/schema.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const schema = buildSchema({ generateInto: root });
await schema.extensions.nexus.config.outputs; // artifacts are written asynchronously by makeSchema
await new Promise((r) => setTimeout(r, 1500));
console.log(`schema written to ${join(root, 'schema.graphql')}`);

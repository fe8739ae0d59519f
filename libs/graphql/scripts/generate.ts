// Writes schema.graphql and src/generated/nexus-typegen.ts. Run: npm run schema
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import nexusCore from 'nexus/dist/makeSchema.js';
import { schemaConfig } from '../src/schema.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
await nexusCore.generateSchema(schemaConfig({ generateInto: root }));
console.log(`wrote ${join(root, 'schema.graphql')} and src/generated/nexus-typegen.ts`);

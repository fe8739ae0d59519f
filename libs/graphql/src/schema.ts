import { join } from 'node:path';
import { makeSchema } from 'nexus';
import type { SchemaConfig } from 'nexus/dist/core.js';
import * as asOf from './as-of.js';
import * as audit from './audit.js';
import * as auditReport from './audit-report.js';
import * as reproduce from './reproduce.js';
import * as artifacts from './artifacts.js';
import * as common from './common.js';
import * as datasets from './datasets.js';
import * as experiments from './experiments.js';
import * as metrics from './metrics.js';
import * as models from './models.js';
import * as promotion from './promotion.js';
import * as runs from './runs.js';
import * as scalars from './scalars.js';
import * as users from './users.js';
import * as deployments from './deployments.js';
import * as webhooks from './webhooks.js';

/**
 * The GraphQL schema. Artifacts (schema.graphql, the resolver typegen) are written only by
 * `npm run schema`, never at server start; both are committed and checked in CI.
 */
export function buildSchema() {
  return makeSchema(schemaConfig());
}

/** The schema's configuration; with `generateInto`, where its artifacts are written. */
export function schemaConfig(opts: { generateInto?: string } = {}): SchemaConfig {
  const root = opts.generateInto;
  return {
    types: [scalars, asOf, common, experiments, runs, metrics, users, audit, artifacts, models, datasets, promotion, deployments, webhooks, reproduce, auditReport],
    // Query fields with an `asOf: AsOf` argument answer, nested fields included, from that past state.
    plugins: [asOf.asOfPlugin],
    shouldGenerateArtifacts: root !== undefined,
    shouldExitAfterGenerateArtifacts: false,
    ...(root
      ? {
          outputs: { schema: join(root, 'schema.graphql'), typegen: join(root, 'src/generated/nexus-typegen.ts') },
          contextType: { module: join(root, 'src/context.ts'), export: 'GraphQLContext' },
          sourceTypes: { modules: [{ module: join(root, 'src/source-types.ts'), alias: 'sources' }] },
          // NodeNext ESM wants explicit .js suffixes on relative imports.
          formatTypegen: (content: string, type: string) =>
            type === 'types' ? content.replace(/from "(\.\.?\/[^"]+?)(\.ts)?"/g, 'from "$1.js"') : content,
        }
      : {}),
    nonNullDefaults: { output: false, input: false },
    features: { abstractTypeStrategies: { resolveType: true } },
  };
}

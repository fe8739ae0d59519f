import { extendType, objectType } from 'nexus';

export const RunArtifact = objectType({
  name: 'RunArtifact',
  description: 'A file a run produced. Download it from GET /api/v1/runs/{runId}/artifacts/{path}.',
  definition(t) {
    t.nonNull.string('path');
    t.nonNull.float('size', { description: 'Bytes.' });
    t.nonNull.string('sha256', { description: 'Content hash: the blob the path points at, forever.' });
    t.nonNull.string('contentType');
    t.nonNull.float('loggedAt');
    t.nonNull.string('loggedBy');
  },
});

export const RunArtifacts = extendType({
  type: 'Run',
  definition(t) {
    t.nonNull.list.nonNull.field('artifacts', { type: 'RunArtifact', resolve: (r, _a, ctx) => ctx.read.artifacts.list(r.runId) });
  },
});

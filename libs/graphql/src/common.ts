import { enumType, inputObjectType, objectType } from 'nexus';

export const KeyValue = objectType({
  name: 'KeyValue',
  description: 'A tag or a param.',
  definition(t) {
    t.nonNull.string('key');
    t.nonNull.string('value');
  },
});

export const KeyValueInput = inputObjectType({
  name: 'KeyValueInput',
  definition(t) {
    t.nonNull.string('key');
    t.nonNull.string('value');
  },
});

export const PageInfo = objectType({
  name: 'PageInfo',
  definition(t) {
    t.string('endCursor', { description: 'Pass as `after` to get the next page.' });
    t.nonNull.boolean('hasNextPage');
  },
});

export const LifecycleFilter = enumType({
  name: 'LifecycleFilter',
  description: 'Which entities to list: active ones (the default), soft-deleted ones, or both.',
  members: [
    { name: 'ACTIVE', value: 'active' },
    { name: 'DELETED', value: 'deleted' },
    { name: 'ALL', value: 'all' },
  ],
});

export const Lifecycle = enumType({
  name: 'Lifecycle',
  members: [
    { name: 'ACTIVE', value: 'active' },
    { name: 'DELETED', value: 'deleted' },
  ],
});

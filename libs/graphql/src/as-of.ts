import { parseAsOf, type AsOf as AsOfValue } from '@chronicle/audit';
import { isChronicleError, ValidationFailed } from '@chronicle/domain';
import type { ReadModels } from '@chronicle/projections';
import { GraphQLError, GraphQLScalarType, Kind, type GraphQLFieldConfigArgumentMap } from 'graphql';
import { arg, nonNull, objectType, plugin, queryField, scalarType } from 'nexus';
import type { GraphQLContext } from './context.js';

/**
 * A malformed AsOf written inline in the query. Left to the resolver to refuse, so that a bad
 * literal answers BAD_USER_INPUT like a bad variable does, not GRAPHQL_VALIDATION_FAILED.
 */
class InvalidAsOf {
  constructor(readonly message: string) {}
}

/** The parsed argument, or the refusal of a malformed literal. */
export function checkedAsOf(value: unknown, field = 'asOf'): AsOfValue {
  if (value instanceof InvalidAsOf) throw new ValidationFailed(value.message, { field });
  return value as AsOfValue;
}

const deferred = (parse: () => AsOfValue): AsOfValue | InvalidAsOf => {
  try {
    return parse();
  } catch (e) {
    return new InvalidAsOf(e instanceof Error ? e.message : String(e));
  }
};

function fromNumber(n: number): AsOfValue {
  if (!Number.isSafeInteger(n) || n < 0) throw new GraphQLError(`AsOf: a log position is a whole number, 0 or more; got ${n}`);
  return { position: n };
}

function fromString(s: string): AsOfValue {
  try {
    return parseAsOf(s);
  } catch (e) {
    throw new GraphQLError(`AsOf: ${isChronicleError(e) ? e.message : String(e)}`);
  }
}

export const AsOfScalar = scalarType({
  name: 'AsOf',
  description:
    'A point in the past of the event log: a global position (a whole number, e.g. `1234`, or the same as a string) or an ISO 8601 date or time ' +
    '(`"2026-11-27"`, `"2026-11-27T14:05:00Z"`). A time means the state after the last event recorded at or before it; ' +
    'position 0 is the empty state before the first event. Positions beyond the head of the log are refused.',
  asNexusMethod: 'asOf',
  serialize(v) {
    const value = v as AsOfValue;
    if (value && typeof value === 'object' && 'position' in value) return value.position;
    if (value && typeof value === 'object' && 'time' in value) return new Date(value.time).toISOString();
    throw new GraphQLError('AsOf must be a position or a time');
  },
  parseValue(v) {
    if (typeof v === 'number') return fromNumber(v);
    if (typeof v === 'string') return fromString(v);
    throw new GraphQLError(`AsOf must be a whole number or a string; got ${JSON.stringify(v)}`);
  },
  parseLiteral(ast) {
    if (ast.kind === Kind.INT || ast.kind === Kind.FLOAT) return deferred(() => fromNumber(Number(ast.value)));
    if (ast.kind === Kind.STRING) return deferred(() => fromString(ast.value));
    return new InvalidAsOf('AsOf must be a whole number or a string');
  },
});

const AS_OF_DESCRIPTION =
  'Answer from the state of the read models at this point of the log instead of now; nested fields answer from the same state.';

/** The `asOf` argument every read-model query takes. */
export const asOfArg = () => arg({ type: 'AsOf', description: AS_OF_DESCRIPTION });

/** Objects resolved in a past state, with the read models of that state, so nested fields stay there. */
const pinnedTo = new WeakMap<object, ReadModels>();

function pin<T>(value: T, read: ReadModels): T {
  if (Array.isArray(value)) for (const v of value) pin(v, read);
  else if (value !== null && typeof value === 'object') pinnedTo.set(value, read);
  return value;
}

const contexts = new WeakMap<GraphQLContext, WeakMap<ReadModels, GraphQLContext>>();

/** The context with `read` swapped for past read models; one per (request, state). */
function contextAt(ctx: GraphQLContext, read: ReadModels): GraphQLContext {
  let byRead = contexts.get(ctx);
  if (!byRead) contexts.set(ctx, (byRead = new WeakMap()));
  let pinned = byRead.get(read);
  if (!pinned) byRead.set(read, (pinned = Object.create(ctx, { read: { value: read, enumerable: true } }) as GraphQLContext));
  return pinned;
}

const isAsOfArgument = (args: GraphQLFieldConfigArgumentMap | undefined) => {
  const type = args?.['asOf']?.type;
  return type instanceof GraphQLScalarType && type.name === 'AsOf';
};

async function readModelsAt(ctx: GraphQLContext, asOf: AsOfValue): Promise<ReadModels> {
  if (!ctx.timeTravel)
    throw new ValidationFailed('this server keeps no past read models (its read models are in memory); ask without asOf', { field: 'asOf' });
  return ctx.timeTravel.at(asOf);
}

/**
 * Runs a query field that has an `asOf: AsOf` argument, and every field below it, against the
 * read models as they were at that point: resolvers keep reading `ctx.read`, which is swapped
 * for the past state in that subtree only (another root field of the same request may ask
 * about another time, or about now). Mutations take no asOf.
 */
export const asOfPlugin = plugin({
  name: 'AsOf',
  onCreateFieldResolver(config) {
    const takesAsOf = config.parentTypeConfig.name === 'Query' && isAsOfArgument(config.fieldConfig.args);
    return (root, args, ctx: GraphQLContext, info, next) => {
      if (takesAsOf && args['asOf'] !== null && args['asOf'] !== undefined)
        return readModelsAt(ctx, checkedAsOf(args['asOf'])).then(async (read) => pin(await next(root, args, contextAt(ctx, read), info), read));
      const read = root !== null && typeof root === 'object' ? pinnedTo.get(root as object) : undefined;
      if (!read) return next(root, args, ctx, info);
      const result = next(root, args, contextAt(ctx, read), info);
      return result instanceof Promise ? result.then((r) => pin(r, read)) : pin(result, read);
    };
  },
});

export const AsOfPoint = objectType({
  name: 'AsOfPoint',
  description: 'The event an `AsOf` names.',
  definition(t) {
    t.nonNull.float('position', { description: 'The last global position included in the state (0: none).' });
    t.float('recordedAt', { description: 'When that event was recorded, in milliseconds since the epoch; null for position 0.' });
    t.nonNull.float('head', { description: 'The head of the log when asked.' });
  },
});

export const asOfPointQuery = queryField('asOfPoint', {
  type: nonNull('AsOfPoint'),
  description: 'Which position of the log an `AsOf` (a position or a time) resolves to: the state every `asOf` query with it answers from.',
  args: { at: nonNull(arg({ type: 'AsOf' })) },
  async resolve(_r, { at }, ctx) {
    if (!ctx.timeTravel) throw new ValidationFailed('this server keeps no past read models (its read models are in memory)', { field: 'at' });
    return ctx.timeTravel.resolve(checkedAsOf(at, 'at'));
  },
});

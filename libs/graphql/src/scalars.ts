import { decodeMetricValue, parseMetricValue } from '@chronicle/domain';
import { GraphQLError, Kind, type ValueNode } from 'graphql';
import { scalarType } from 'nexus';

/** A Float that may also be NaN, Infinity or -Infinity, sent as those strings (JSON cannot carry them). */
export const MetricValue = scalarType({
  name: 'MetricValue',
  description: 'A metric value: a number, or one of the strings "NaN", "Infinity", "-Infinity".',
  asNexusMethod: 'metricValue',
  serialize(v) {
    if (typeof v !== 'number') throw new GraphQLError('MetricValue must be a number');
    return Number.isFinite(v) ? v : String(v);
  },
  parseValue(v) {
    const n = parseMetricValue(v);
    if (n === undefined) throw new GraphQLError(`MetricValue must be a number, "NaN", "Infinity" or "-Infinity"; got ${JSON.stringify(v)}`);
    return n;
  },
  parseLiteral(ast) {
    if (ast.kind === Kind.INT || ast.kind === Kind.FLOAT) return Number(ast.value);
    if (ast.kind === Kind.STRING) {
      const n = parseMetricValue(ast.value);
      if (n !== undefined) return n;
    }
    throw new GraphQLError('MetricValue must be a number, "NaN", "Infinity" or "-Infinity"');
  },
});

function literalToJson(ast: ValueNode): unknown {
  switch (ast.kind) {
    case Kind.STRING:
    case Kind.BOOLEAN:
      return ast.value;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(ast.value);
    case Kind.NULL:
      return null;
    case Kind.LIST:
      return ast.values.map(literalToJson);
    case Kind.OBJECT:
      return Object.fromEntries(ast.fields.map((f) => [f.name.value, literalToJson(f.value)]));
    default:
      throw new GraphQLError('JSON literals cannot hold variables or enums');
  }
}

export const JSONScalar = scalarType({
  name: 'JSON',
  description: 'Any JSON value.',
  asNexusMethod: 'json',
  serialize: (v) => v,
  parseValue: (v) => v,
  parseLiteral: literalToJson,
});

export { decodeMetricValue };

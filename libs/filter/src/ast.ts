/**
 * The parsed form of a run-search filter. The parser has already applied the type rules,
 * so each comparison carries values of the right type for its target: numbers for metrics
 * and time attributes, text for text attributes, either for params and tags.
 */

export const TIME_ATTRIBUTES = ['start_time', 'end_time'] as const;
export const TEXT_ATTRIBUTES = [
  'run_id',
  'run_name',
  'status',
  'user_id',
  'experiment_id',
  'lifecycle_stage',
  'parent_run_id',
] as const;

export type TimeAttribute = (typeof TIME_ATTRIBUTES)[number];
export type TextAttribute = (typeof TEXT_ATTRIBUTES)[number];
export type AttributeName = TimeAttribute | TextAttribute;

export type MetricRef = { readonly type: 'metric'; readonly key: string };
export type ParamRef = { readonly type: 'param'; readonly key: string };
export type TagRef = { readonly type: 'tag'; readonly key: string };
export type TimeAttributeRef = { readonly type: 'attribute'; readonly name: TimeAttribute };
export type TextAttributeRef = { readonly type: 'attribute'; readonly name: TextAttribute };
export type AttributeRef = TimeAttributeRef | TextAttributeRef;
export type Identifier = MetricRef | ParamRef | TagRef | AttributeRef;

export type EqualityOp = '=' | '!=';
export type OrderingOp = '<' | '<=' | '>' | '>=';
export type CompareOp = EqualityOp | OrderingOp;
export type LikeOp = 'LIKE' | 'ILIKE' | 'NOT LIKE' | 'NOT ILIKE';
export type InOp = 'IN' | 'NOT IN';
export type NullOp = 'IS NULL' | 'IS NOT NULL';

export type ComparePredicate<V, Op extends CompareOp = CompareOp> = {
  readonly op: Op;
  readonly value: V;
};
export type LikePredicate = { readonly op: LikeOp; readonly pattern: string };
export type InPredicate<V> = { readonly op: InOp; readonly values: readonly V[] };
/** `IS NULL` means the run has no such metric, param or tag (or the attribute is unset). */
export type NullPredicate = { readonly op: NullOp };

/** Metric values may be NaN or ±Infinity; time values are finite milliseconds since the epoch. */
export type NumericPredicate = ComparePredicate<number> | InPredicate<number> | NullPredicate;
/**
 * Param and tag values are text. A number literal compares numerically with the values
 * that look like numbers; a string literal compares as text.
 */
export type EntryPredicate =
  | ComparePredicate<string | number>
  | LikePredicate
  | InPredicate<string | number>
  | NullPredicate;
export type TextPredicate =
  | ComparePredicate<string, EqualityOp>
  | LikePredicate
  | InPredicate<string>
  | NullPredicate;

export type MetricComparison = MetricRef & NumericPredicate;
export type ParamComparison = ParamRef & EntryPredicate;
export type TagComparison = TagRef & EntryPredicate;
export type TimeAttributeComparison = TimeAttributeRef & NumericPredicate;
export type TextAttributeComparison = TextAttributeRef & TextPredicate;
export type AttributeComparison = TimeAttributeComparison | TextAttributeComparison;
export type Comparison = MetricComparison | ParamComparison | TagComparison | AttributeComparison;

export type AndExpr = { readonly type: 'and'; readonly operands: readonly FilterExpr[] };
export type OrExpr = { readonly type: 'or'; readonly operands: readonly FilterExpr[] };
export type NotExpr = { readonly type: 'not'; readonly operand: FilterExpr };
export type FilterExpr = Comparison | AndExpr | OrExpr | NotExpr;

export type SortDirection = 'ASC' | 'DESC';
export type OrderTerm = { readonly target: Identifier; readonly direction: SortDirection };

export function isTimeAttribute(name: AttributeName): name is TimeAttribute {
  return (TIME_ATTRIBUTES as readonly string[]).includes(name);
}

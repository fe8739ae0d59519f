// Backing types of the GraphQL object types, matched by name by Nexus's typegen.
import type { ExperimentView, LatestMetric as LatestMetricView, Page, RunView, MetricPointView, ChartPoint as ChartPointView, TokenView, UserView } from '@chronicle/projections';

export type Experiment = ExperimentView;
export type Run = RunView;
export type LatestMetric = LatestMetricView;
export type RunConnection = Page<RunView> & { totalCount: () => number };
export type MetricPoint = MetricPointView;
export type ChartPoint = ChartPointView;
export type MetricHistory = Page<MetricPointView> & { runId: string; key: string; totalCount: number };
export type MetricSeries = { runId: string; key: string; totalPoints: number; level: number; points: ChartPointView[] };
export type User = UserView;
export type ApiToken = TokenView;
export type CreatedToken = { token: TokenView; secret: string };

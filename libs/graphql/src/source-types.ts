// Backing types of the GraphQL object types, matched by name by Nexus's typegen.
import type { IntegrityBreak as IntegrityBreakView, IntegrityReport as IntegrityReportView } from '@chronicle/audit';
import type { AuditEntryView } from '@chronicle/projections';
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
export type AuditEntry = AuditEntryView;
export type AuditEntryConnection = Page<AuditEntryView>;
export type IntegrityReport = IntegrityReportView;
export type IntegrityBreak = IntegrityBreakView;
export type RunArtifact = import('@chronicle/projections').ArtifactView;
export type RegisteredModel = import('@chronicle/projections').ModelView;
export type ModelVersion = import('@chronicle/projections').ModelVersionView;
export type ModelAlias = import('@chronicle/projections').ModelAliasView;
export type PointerPeriod = import('@chronicle/projections').PointerPeriodView;
export type ModelCard = import('@chronicle/domain').ModelCard;

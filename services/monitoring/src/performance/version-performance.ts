import { Inject, Injectable } from '@nestjs/common';
import { createEvent, type EventEnvelope } from '@mlops/contracts';
import { Champions } from '../canary/champions';
import { MonitoringMetrics } from '../metrics';
import { MONITORING_SETTINGS, type MonitoringSettings } from '../monitoring.settings';
import { CLOCK, type Clock } from '../monitoring.tokens';
import { LineageFacts } from '../references/lineage-facts';
import { Cooldowns } from '../state/cooldowns';
import type { PerformanceRow } from '../store/entities';
import { HIGHER_IS_BETTER, PerformanceAggregate, type AggregateState, type PerformanceMetric } from './performance-aggregate';

const keyOf = (model: string, version: number) => `${model}\u0000${version}`;

/** A batch's aggregates and cooldowns not yet committed, seen before the stored ones. */
export interface BatchView {
  performance: ReadonlyMap<string, PerformanceAggregate>;
  cooldowns: ReadonlyMap<string, number>;
}

/** A performance.degraded decided, with the cooldown it starts. */
export interface Degradation {
  event: EventEnvelope<'performance.degraded'>;
  cooldownKey: string;
}

/**
 * Live performance of each model version from its joined labels (the one owner of the
 * aggregates in memory), its baseline, and when it counts as degraded.
 */
@Injectable()
export class VersionPerformance {
  private readonly performance = new Map<string, PerformanceAggregate>();
  private readonly options: MonitoringSettings['performance'];

  constructor(
    @Inject(MONITORING_SETTINGS) settings: MonitoringSettings,
    private readonly metrics: MonitoringMetrics,
    private readonly champions: Champions,
    private readonly lineage: LineageFacts,
    private readonly cooldowns: Cooldowns,
    @Inject(CLOCK) private readonly now: Clock,
  ) {
    this.options = settings.performance;
  }

  /** Stored aggregates (their gauges: exportAll). */
  restore(rows: PerformanceRow[]): void {
    rows.forEach((p) => this.performance.set(keyOf(p.model, p.version), this.aggregate(JSON.parse(p.state))));
  }

  /** Sets the performance gauges of every stored version (after the rest of the state is restored). */
  exportAll(rows: PerformanceRow[]): void {
    for (const row of rows) this.export(row.model, row.version);
  }

  aggregate(state?: AggregateState): PerformanceAggregate {
    return state ? new PerformanceAggregate(state, this.options.aggregate) : PerformanceAggregate.empty(this.options.aggregate);
  }

  metricFor = (kind: 'classification' | 'regression'): PerformanceMetric =>
    kind === 'classification' ? this.options.classificationMetric : this.options.regressionMetric;

  of(model: string, version: number): PerformanceAggregate | undefined {
    return this.performance.get(keyOf(model, version));
  }

  /** Every version with labels (keys `model\0version`). */
  keys(): IterableIterator<string> {
    return this.performance.keys();
  }

  /** The version's aggregate after a committed batch of labels, exported. */
  commit(model: string, version: number, aggregate: PerformanceAggregate): void {
    this.performance.set(keyOf(model, version), aggregate);
    this.export(model, version);
  }

  /** The baseline of a version: the champion's live value (enough labels), else its training metric. */
  private baseline(model: string, version: number, metric: PerformanceMetric, batch?: BatchView): { value: number; source: string } | undefined {
    const champion = this.champions.of(model);
    if (champion !== undefined && champion !== version) {
      const key = keyOf(model, champion);
      const live = batch?.performance.get(key) ?? this.performance.get(key);
      const value = live && live.labels >= this.options.minLabels ? live.metric(metric) : undefined;
      if (value !== undefined) return { value, source: `champion v${champion}` };
    }
    const trained = this.lineage.trainingMetric(model, version, metric);
    return typeof trained === 'number' && Number.isFinite(trained) ? { value: trained, source: 'training' } : undefined;
  }

  /** The performance.degraded this aggregate calls for (worse than its baseline, out of cooldown), if any. */
  degradation(model: string, version: number, aggregate: PerformanceAggregate, batch?: BatchView): Degradation | undefined {
    if (aggregate.labels < this.options.minLabels || !aggregate.kind) return undefined;
    const metric = this.metricFor(aggregate.kind);
    const value = aggregate.metric(metric);
    const baseline = this.baseline(model, version, metric, batch);
    if (value === undefined || !baseline) return undefined;
    const tolerance = this.options.tolerance;
    const higher = HIGHER_IS_BETTER[metric];
    const threshold = higher ? baseline.value - tolerance : baseline.value + tolerance;
    if (higher ? value >= threshold : value <= threshold) return undefined;
    const cooldownKey = Cooldowns.performance(model, version);
    if (this.cooldowns.cooling(cooldownKey, this.now(), batch?.cooldowns)) return undefined;
    const event = createEvent('performance.degraded', {
      source: 'monitoring',
      subject: model,
      data: { model, version, metric, value, baseline: baseline.value, threshold },
    });
    return { event, cooldownKey };
  }

  private export(model: string, version: number): void {
    const aggregate = this.performance.get(keyOf(model, version));
    if (!aggregate) return;
    for (const [metric, value] of Object.entries(aggregate.metrics())) {
      this.metrics.performance.set({ model, version: String(version), metric }, value);
    }
  }

  performanceOf(model: string, version: number) {
    const aggregate = this.performance.get(keyOf(model, version));
    const kind = aggregate?.kind;
    const metric = kind ? this.metricFor(kind) : undefined;
    return {
      model,
      version,
      kind: kind ?? null,
      labels: aggregate?.labels ?? 0,
      metrics: aggregate?.metrics() ?? {},
      baseline: metric ? { metric, ...(this.baseline(model, version, metric) ?? { value: null, source: null }) } : null,
    };
  }
}

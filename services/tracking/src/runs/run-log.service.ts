import { Injectable } from '@nestjs/common';
import { InvalidInputError } from '@mlops/errors';
import { MetricRepository } from '../store/metric.repository';
import { RunLogStore } from '../store/run-log-store';
import type { KeyValue, MetricInput } from './run';
import { dedupe, LIMITS, validateKey, validateValue } from './run-input';

/** What a run logs: log-batch and every single log-* route (metric, param, tag). */
@Injectable()
export class RunLogService {
  constructor(
    private readonly runLog: RunLogStore,
    private readonly history: MetricRepository,
  ) {}

  /** log-batch (and every single log-* route): all or nothing, in one transaction. */
  async logBatch(runId: unknown, batch: { metrics?: MetricInput[]; params?: KeyValue[]; tags?: KeyValue[] }): Promise<void> {
    const metrics = batch.metrics ?? [];
    const params = batch.params ?? [];
    const tags = batch.tags ?? [];
    if (metrics.length > LIMITS.metricsPerBatch) {
      throw new InvalidInputError(`A batch logging request can contain at most ${LIMITS.metricsPerBatch} metrics. Got ${metrics.length} metrics.`);
    }
    if (params.length > LIMITS.paramsPerBatch) {
      throw new InvalidInputError(`A batch logging request can contain at most ${LIMITS.paramsPerBatch} params. Got ${params.length} params.`);
    }
    if (tags.length > LIMITS.tagsPerBatch) {
      throw new InvalidInputError(`A batch logging request can contain at most ${LIMITS.tagsPerBatch} tags. Got ${tags.length} tags.`);
    }
    if (metrics.length + params.length + tags.length > LIMITS.entitiesPerBatch) {
      throw new InvalidInputError(`A batch logging request can contain at most ${LIMITS.entitiesPerBatch} metrics, params and tags in total.`);
    }
    for (const key of new Set(metrics.map((m) => m.key))) validateKey('metric', key);
    for (const p of params) {
      validateKey('param', p.key);
      p.value = validateValue('param', p.key, p.value, LIMITS.paramValueLength);
    }
    for (const t of tags) {
      validateKey('tag', t.key);
      t.value = validateValue('tag', t.key, t.value, LIMITS.tagValueLength);
    }
    const seenParams = new Map<string, string>();
    for (const p of params) {
      const before = seenParams.get(p.key);
      if (before !== undefined && before !== p.value) {
        throw new InvalidInputError(`duplicate param key "${p.key}" with different values ("${before}", "${p.value}") in one batch`);
      }
      seenParams.set(p.key, p.value);
    }

    if (typeof runId !== 'string' || !runId) throw new InvalidInputError('run_id is required');
    await this.runLog.logBatch(runId, {
      metrics: (await this.withoutModelRelogs(runId, metrics)).map((m) => ({
        runUuid: runId,
        key: m.key,
        value: Number.isNaN(m.value) ? 0 : m.value,
        isNan: Number.isNaN(m.value),
        timestamp: m.timestamp,
        step: m.step,
      })),
      params: [...seenParams].map(([key, value]) => ({ key, value })),
      tags: dedupe(tags),
    });
  }

  /**
   * mlflow's log_model logs the run's metrics again with the new model's id; MLflow stores a
   * metric identical to a stored one once, so those are left out of the run's history here.
   */
  private async withoutModelRelogs(runId: string, metrics: MetricInput[]): Promise<MetricInput[]> {
    const linked = metrics.filter((m) => m.modelId !== undefined);
    if (linked.length === 0) return metrics;
    const stored = await this.history.atSteps(runId, [...new Set(linked.map((m) => m.key))], [...new Set(linked.map((m) => m.step))]);
    const same = (m: MetricInput) =>
      stored.some((s) => s.key === m.key && s.step === m.step && s.timestamp === m.timestamp && (s.isNan ? Number.isNaN(m.value) : s.value === m.value));
    return metrics.filter((m) => m.modelId === undefined || !same(m));
  }
}

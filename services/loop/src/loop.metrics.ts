import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { createMetricsRegistry } from '@mlops/metrics';
import { NOTIFICATION_EVENTS } from './notifications/notification-events';
import type { LoopOutcome } from './store/entities';

/** Prometheus metrics of one loop controller (its own registry, so instances do not clash). */
export class LoopMetrics {
  readonly registry: Registry;
  readonly opened: Counter<'model'>;
  readonly ended: Counter<'model' | 'outcome'>;
  readonly driftIgnored: Counter<'model' | 'reason'>;
  readonly triggers: Counter<'model' | 'trigger' | 'decision'>;
  readonly duration: Histogram<'model' | 'outcome'>;
  readonly open: Gauge<'model'>;
  readonly webhookAttempts: Counter<'event' | 'result'>;

  /** Set by the app: open loops per model, read at scrape time. */
  countOpen: () => Promise<Record<string, number>> = async () => ({});

  constructor(defaultMetrics = true) {
    const registers = [(this.registry = createMetricsRegistry({ service: 'loop', defaultMetrics }))];
    this.opened = new Counter({
      name: 'mlops_loop_loops_opened_total',
      help: 'Loops opened by a retrain trigger (drift, performance, schedule, new data)',
      labelNames: ['model'] as const,
      registers,
    });
    this.ended = new Counter({
      name: 'mlops_loop_loops_ended_total',
      help: 'Loops ended, by outcome (promoted, rolled_back, rejected_by_gate, failed)',
      labelNames: ['model', 'outcome'] as const,
      registers,
    });
    this.driftIgnored = new Counter({
      name: 'mlops_loop_drift_ignored_total',
      help: 'drift.detected recorded but not acted on: a loop of the model was open (debounce) or had just ended (cooldown)',
      labelNames: ['model', 'reason'] as const,
      registers,
    });
    this.triggers = new Counter({
      name: 'mlops_loop_triggers_total',
      help: 'Retrain triggers (drift, performance, schedule, new_data) by decision: opened, ignored_debounce, ignored_cooldown, ignored_duplicate, ignored_off, skipped_late',
      labelNames: ['model', 'trigger', 'decision'] as const,
      registers,
    });
    this.duration = new Histogram({
      name: 'mlops_loop_duration_seconds',
      help: 'From the drift event that opened a loop to the event that ended it',
      labelNames: ['model', 'outcome'] as const,
      buckets: [1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600],
      registers,
    });
    this.webhookAttempts = new Counter({
      name: 'mlops_loop_webhook_attempts_total',
      help: 'Webhook delivery attempts by notification event and result: delivered, retry (failed, another attempt is due) or failed (the last attempt failed)',
      labelNames: ['event', 'result'] as const,
      registers,
    });
    // From 0, so that increase() sees the first failure of an event (a series born at 1 shows none).
    for (const event of NOTIFICATION_EVENTS) for (const result of ['delivered', 'retry', 'failed']) this.webhookAttempts.inc({ event, result }, 0);
    const countOpen = () => this.countOpen();
    this.open = new Gauge({
      name: 'mlops_loop_open_loops',
      help: 'Loops open now (read from the database at scrape time)',
      labelNames: ['model'] as const,
      registers,
      async collect() {
        this.reset();
        for (const [model, count] of Object.entries(await countOpen())) this.set({ model }, count);
      },
    });
  }

  loopEnded(model: string, outcome: LoopOutcome, durationMs: number): void {
    this.ended.inc({ model, outcome });
    this.duration.observe({ model, outcome }, Math.max(0, durationMs) / 1000);
  }
}

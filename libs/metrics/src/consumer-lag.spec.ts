import { createConsumerLagMetrics } from './consumer-lag';
import { createMetricsRegistry } from './registry';
import { parseExposition, samplesOf, valueOf } from './test/parse-exposition';

describe('consumer lag gauge', () => {
  const setup = () => {
    const registry = createMetricsRegistry({ service: 'demo', defaultMetrics: false });
    return { registry, lag: createConsumerLagMetrics(registry) };
  };
  const scrape = async (registry: ReturnType<typeof setup>['registry']) => parseExposition(await registry.metrics());

  it('is the high watermark minus the committed offset, per group, topic and partition', async () => {
    const { registry, lag } = setup();
    expect(lag.update({ group: 'monitoring', topic: 'prediction.logged', partition: 0, highWatermark: 1500, committedOffset: 1200 })).toBe(300);
    // kafkajs reports offsets as strings
    lag.update({ group: 'monitoring', topic: 'prediction.logged', partition: 1, highWatermark: '42', committedOffset: '42' });
    const metrics = await scrape(registry);
    expect(metrics.types.get('mlops_kafka_consumer_lag')).toBe('gauge');
    expect(valueOf(metrics, 'mlops_kafka_consumer_lag', { group: 'monitoring', topic: 'prediction.logged', partition: '0' })).toBe(300);
    expect(valueOf(metrics, 'mlops_kafka_consumer_lag', { partition: '1' })).toBe(0);
  });

  it('counts from the low watermark when the group has committed nothing (-1), and never goes below 0', async () => {
    const { registry, lag } = setup();
    lag.update({ group: 'g', topic: 't', partition: 0, highWatermark: 100, committedOffset: -1, lowWatermark: 40 });
    lag.update({ group: 'g', topic: 't', partition: 1, highWatermark: 100, committedOffset: -1 });
    // a commit read before a fresher high watermark
    lag.update({ group: 'g', topic: 't', partition: 2, highWatermark: 10, committedOffset: 12 });
    const metrics = await scrape(registry);
    expect(valueOf(metrics, 'mlops_kafka_consumer_lag', { partition: '0' })).toBe(60);
    expect(valueOf(metrics, 'mlops_kafka_consumer_lag', { partition: '1' })).toBe(100);
    expect(valueOf(metrics, 'mlops_kafka_consumer_lag', { partition: '2' })).toBe(0);
  });

  it('updates in place and drops a revoked partition', async () => {
    const { registry, lag } = setup();
    lag.update({ group: 'g', topic: 't', partition: 0, highWatermark: 10, committedOffset: 0 });
    lag.update({ group: 'g', topic: 't', partition: 0, highWatermark: 20, committedOffset: 15 });
    lag.update({ group: 'g', topic: 't', partition: 1, highWatermark: 5, committedOffset: 0 });
    lag.remove('g', 't', 1);
    const metrics = await scrape(registry);
    expect(samplesOf(metrics, 'mlops_kafka_consumer_lag').map((s) => [s.labels.partition, s.value])).toEqual([['0', 5]]);
  });

  it('rejects an offset that is not an integer, naming the field', () => {
    const { lag } = setup();
    expect(() => lag.update({ group: 'g', topic: 't', partition: 0, highWatermark: 'abc', committedOffset: 0 })).toThrow(/highWatermark: expected an integer offset/);
    expect(() => lag.update({ group: 'g', topic: 't', partition: 0, highWatermark: 1, committedOffset: 0.5 })).toThrow(/committedOffset/);
  });
});

describe('consumer lag read at scrape time', () => {
  it('sets every partition the source reports and drops the ones it no longer reports', async () => {
    const registry = createMetricsRegistry({ service: 'demo', defaultMetrics: false });
    let reported = [
      { group: 'loop', topic: 'drift.detected', partition: 0, highWatermark: '30', committedOffset: '10', lowWatermark: '0' },
      { group: 'loop', topic: 'drift.detected', partition: 1, highWatermark: '7', committedOffset: '7', lowWatermark: '0' },
    ];
    createConsumerLagMetrics(registry, { read: async () => reported, onError: (e) => { throw e; } });
    let metrics = parseExposition(await registry.metrics());
    expect(samplesOf(metrics, 'mlops_kafka_consumer_lag').map((s) => [s.labels.group, s.labels.topic, s.labels.partition, s.value])).toEqual([
      ['loop', 'drift.detected', '0', 20],
      ['loop', 'drift.detected', '1', 0],
    ]);
    reported = [reported[1]!];
    metrics = parseExposition(await registry.metrics());
    expect(samplesOf(metrics, 'mlops_kafka_consumer_lag').map((s) => s.labels.partition)).toEqual(['1']);
  });

  it('a failing or silent broker leaves the last values and is reported, and the scrape still answers', async () => {
    const registry = createMetricsRegistry({ service: 'demo', defaultMetrics: false });
    const errors: string[] = [];
    let read: () => Promise<{ group: string; topic: string; partition: number; highWatermark: string; committedOffset: string }[]> = async () => [
      { group: 'g', topic: 't', partition: 0, highWatermark: '9', committedOffset: '4' },
    ];
    createConsumerLagMetrics(registry, { read: () => read(), onError: (e) => errors.push(e.message), timeoutMs: 50 });
    await registry.metrics();
    read = async () => {
      throw new Error('broker down');
    };
    expect(valueOf(parseExposition(await registry.metrics()), 'mlops_kafka_consumer_lag', { partition: '0' })).toBe(5);
    read = () => new Promise(() => undefined);
    expect(valueOf(parseExposition(await registry.metrics()), 'mlops_kafka_consumer_lag', { partition: '0' })).toBe(5);
    expect(errors).toEqual(['broker down', 'no offsets from the broker within 50 ms']);
  });
});

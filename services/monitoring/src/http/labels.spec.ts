import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { EventBus, InProcessTransport, type Subscription } from '@mlops/bus';
import { createEvent, decodeEvent, type EventEnvelope } from '@mlops/contracts';
import { readmeBlocks } from '../../../../test/support/readme';
import { waitFor } from '../../../../test/support/wait-for';
import { startMonitoring, type MonitoringApp } from '../monitoring.app';
import { loadMonitoringConfig } from '../monitoring.config';

describe('monitoring POST /labels (in-process bus, SQLite, real HTTP)', () => {
  let transport: InProcessTransport;
  let monitoring: MonitoringApp;
  let observer: Subscription;
  const seen: EventEnvelope<'label.observed'>[] = [];

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const post = (body: unknown): Promise<{ status: number; body: any }> =>
    fetch(`${monitoring.url}/labels`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(async (r) => ({
      status: r.status,
      body: await r.json(),
    }));
  /** Once a label of `marker` is seen, every label.observed published before it is too (one topic, in order). */
  async function settled(marker: string): Promise<void> {
    await new EventBus(transport).publish(createEvent('label.observed', { source: 'test', subject: marker, data: { predictionId: marker, label: 0 } }));
    await waitFor(() => seen.find((e) => e.data.predictionId === marker), `the marker ${marker}`);
  }

  beforeAll(async () => {
    transport = new InProcessTransport();
    monitoring = await startMonitoring(loadMonitoringConfig({ DATABASE_URL: 'sqlite::memory:', MONITORING_PORT: '0' }), {
      inProcess: transport,
      logger: false,
      defaultMetrics: false,
    });
    observer = await new EventBus(transport).subscribe({
      group: 'observer',
      topics: ['label.observed'],
      handle: async (m) => void seen.push(decodeEvent(m.value) as EventEnvelope<'label.observed'>),
    });
  });
  afterAll(async () => {
    await observer?.stop();
    await monitoring?.close();
  });

  it('publishes one label.observed per label, as Kafka producers send them, and answers 202 with the count', async () => {
    const reply = await post({
      labels: [
        { predictionId: 'req-1:0', label: 1, model: 'churn' },
        { predictionId: 'req-1:1', label: 'no', observedAt: '2026-01-02T03:04:05Z' },
      ],
    });
    expect(reply).toEqual({ status: 202, body: { accepted: 2 } });
    const first = await waitFor(() => seen.find((e) => e.data.predictionId === 'req-1:0'), 'label of req-1:0');
    expect(first).toMatchObject({ type: 'label.observed', subject: 'churn', data: { predictionId: 'req-1:0', model: 'churn', label: 1 } });
    const second = await waitFor(() => seen.find((e) => e.data.predictionId === 'req-1:1'), 'label of req-1:1');
    expect(second).toMatchObject({ time: '2026-01-02T03:04:05.000Z', data: { predictionId: 'req-1:1', label: 'no' } });
    expect(second.data.model).toBeUndefined();
  });

  it('a batch with bad items publishes nothing and names each item by index and field', async () => {
    const reply = await post({
      labels: [
        { predictionId: 'bad-batch:0', label: 1 },
        { predictionId: '', label: 1 },
        { predictionId: 'bad-batch:2', label: null },
        { predictionId: 'bad-batch:3', label: 0, observedAt: 'yesterday' },
        { predictionId: 'bad-batch:4', label: 0, model: 'm'.repeat(201) },
      ],
    });
    expect(reply).toMatchObject({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE' } });
    expect(reply.body.issues.map((i: { field: string }) => i.field)).toEqual(['labels.1.predictionId', 'labels.2.label', 'labels.3.observedAt', 'labels.4.model']);
    expect((await post({})).body.issues).toEqual([expect.objectContaining({ field: 'labels' })]);
    expect((await post({ labels: [] })).status).toBe(400);
    await settled('marker-bad');
    expect(seen.some((e) => e.data.predictionId.startsWith('bad-batch'))).toBe(false);
  });

  it('refuses more than 10,000 labels in one request, naming the limit, and publishes none of them', async () => {
    const labels = Array.from({ length: 10_001 }, (_, i) => ({ predictionId: `big:${i}`, label: i % 2 }));
    const reply = await post({ labels });
    expect(reply).toMatchObject({ status: 413, body: { error_code: 'REQUEST_LIMIT_EXCEEDED', message: expect.stringContaining('10000') } });
    const ok = await post({ labels: labels.slice(0, 10_000) });
    expect(ok).toEqual({ status: 202, body: { accepted: 10_000 } });
    await settled('marker-big');
    expect(seen.filter((e) => e.data.predictionId.startsWith('big:'))).toHaveLength(10_000);
  });

  it("README's labels block works as written (the front door's /monitoring is this service)", async () => {
    const block = readmeBlocks('Monitoring service').find((b) => b.includes('/monitoring/labels'))!;
    const { stdout } = await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', block.replaceAll('127.0.0.1:8080/monitoring', monitoring.url)], { timeout: 30_000 });
    expect(JSON.parse(stdout)).toEqual({ accepted: 2 });
    await settled('marker-readme');
    expect(seen.filter((e) => e.source === 'monitoring-http' && e.data.predictionId === 'req-1:1')).toHaveLength(2);
  });
});

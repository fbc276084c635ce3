import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { DataSource } from 'typeorm';
import { createEventBus, observeKafka, startGroupsAtEnd, type EventBus, type KafkaKitOptions, type Subscription } from '@mlops/bus';
import { createEvent, type AnyEvent, type EventEnvelope } from '@mlops/contracts';
import { infraEnv } from '../../../test/infra/infra-env';
import { freePort, ServiceProcess } from '../../../test/support/service-process';
import { waitFor } from '../../../test/support/wait-for';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const json = (r: Response): Promise<any> => r.json();

const HASH = 'b'.repeat(64);

/**
 * The production entry point on real Kafka and Postgres: references and the canary from
 * events only, a crash (SIGKILL) in the middle of a canary, and exactly one verdict.
 */
describe('monitoring on Kafka and Postgres (own process, production entry point)', () => {
  const infra = infraEnv();
  const run = randomUUID().slice(0, 8);
  const model = `monitoring-it-${run}`;
  const group = `monitoring-it-${run}`;
  const prefix = `monit_${run.replace(/-/g, '')}`;
  const kafka: KafkaKitOptions = { clientId: 'monitoring-it', brokers: infra.KAFKA_BROKERS.split(','), logLevel: 'warn' };
  const verdicts: EventEnvelope<'canary.evaluated'>[] = [];
  let consumer: Subscription;
  let producer: EventBus;
  let monitoring: ServiceProcess;
  let url: string;
  let dir: string;
  let sent = 0;

  const status = () => fetch(`${url}/models/${model}/status`).then(json);

  async function predictAndLabel(version: number, n: number, correct: number, labelled: number): Promise<void> {
    const rows = Array.from({ length: n }, (_, i) => ({ id: `${model}-${version}-${sent++}`, truth: i % 2, predicted: i < correct ? i % 2 : 1 - (i % 2) }));
    await producer.publish(
      rows.map(
        (r) =>
          createEvent('prediction.logged', {
            source: 'serving',
            subject: model,
            data: { predictionId: r.id, model, version, inputs: { a: 0.5, b: 1 }, outputs: { label: r.predicted, probabilities: [1 - r.predicted, r.predicted] }, latencyMs: 1 },
          }) as AnyEvent,
      ),
    );
    // labels follow their predictions (a label for a prediction not yet seen counts as unmatched)
    await waitFor(async () => (await fetch(`${url}/status`).then(json)).labels.pendingPredictions >= labelled, 'predictions waiting for labels');
    await producer.publish(
      rows.slice(0, labelled).map((r) => createEvent('label.observed', { source: 'labels', subject: model, data: { predictionId: r.id, model, label: r.truth } }) as AnyEvent),
    );
  }

  /** A counter of the running process's /metrics (0 when it has no such series yet). */
  const metric = async (series: string) => {
    const line = (await fetch(`${url}/metrics`).then((r) => r.text())).split('\n').find((l) => l.startsWith(`${series} `));
    return Number(line?.split(' ').at(-1) ?? 0);
  };

  /**
   * Resolves once the monitor has handled every prediction of `model` published before: a
   * prediction with the same key (subject) but a marker model follows them on their partition,
   * handled in order, and is seen counted.
   */
  async function predictionsSettled(): Promise<void> {
    const marker = `${model}-marker`;
    const series = `mlops_monitoring_predictions_total{model="${marker}",version="1"}`;
    const before = await metric(series);
    await producer.publish(
      createEvent('prediction.logged', {
        source: 'serving',
        subject: model,
        data: { predictionId: `${marker}-${sent++}`, model: marker, version: 1, inputs: { 'input[0]': 0.5 }, outputs: { label: 1 }, latencyMs: 1 },
      }) as AnyEvent,
    );
    await waitFor(async () => (await metric(series)) > before, 'the marker prediction', 60_000);
  }

  const labels = async (version: number) => (await fetch(`${url}/models/${model}/versions/${version}/performance`).then(json)).labels;

  function start(port: number): ServiceProcess {
    const service = new ServiceProcess('monitoring', {
      BUS: 'kafka',
      KAFKA_BROKERS: infra.KAFKA_BROKERS,
      DATABASE_URL: infra.DATABASE_URL,
      MONITORING_PORT: String(port),
      MONITORING_GROUP: group,
      MONITORING_TABLE_PREFIX: prefix,
      MONITORING_CANARY_MIN_PREDICTIONS: '100',
      MONITORING_CANARY_MIN_LABELS: '50',
      MONITORING_STATE_FLUSH_MS: '0',
    });
    service.start();
    return service;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'monitoring-it-'));
    const lifecycle = ['dataset.materialized', 'training.completed', 'model.registered', 'deployment.completed', 'model.promoted', 'model.rolled_back'];
    // The service's groups start where the shared broker's history ends: replaying every
    // earlier test's predictions first took longer than this test's waits (what an operator
    // does with kafka-consumer-groups --reset-offsets --to-latest before a first deployment).
    await startGroupsAtEnd(kafka, {
      [group]: ['prediction.logged'],
      [`${group}.labels`]: ['label.observed'],
      [`${group}.lifecycle`]: lifecycle,
    });
    consumer = await observeKafka(kafka, { group: `monitoring-it-observer-${run}`, topics: ['canary.evaluated'] }, (message) => {
      const event = JSON.parse(message.value.toString()) as EventEnvelope<'canary.evaluated'>;
      if (event.data.model === model) verdicts.push(event);
    });
    producer = createEventBus({ BUS: 'kafka', KAFKA_BROKERS: infra.KAFKA_BROKERS.split(','), KAFKA_SSL: false }, { service: 'monitoring-it' });
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    monitoring = start(port);
    await monitoring.waitUntilReady(`${url}/health/ready`);
  }, 90_000);

  afterAll(async () => {
    await consumer?.stop();
    await producer?.close();
    await monitoring?.stop();
    rmSync(dir, { recursive: true, force: true });
    const db = new DataSource({ type: 'postgres', url: infra.DATABASE_URL });
    await db.initialize();
    for (const table of ['drift_windows', 'outbox', 'cooldowns', 'performance', 'canaries', 'champions', 'versions', 'runs', 'datasets', 'references', 'processed_events', 'migrations']) {
      await db.query(`DROP TABLE IF EXISTS "${prefix}_${table}"`);
    }
    await db.destroy();
  });

  it('watches a canary from events, survives a crash, and publishes exactly one canary.evaluated', async () => {
    const uri = join(dir, 'train.arrow');
    const rows = 2000;
    writeFileSync(
      uri,
      tableToIPC(tableFromArrays({ a: Float64Array.from({ length: rows }, (_, i) => Math.cos(i)), b: Float64Array.from({ length: rows }, (_, i) => i % 5) }), 'file'),
    );
    for (const version of [1, 2]) {
      const datasetId = `${model}-ds`;
      const runId = `${model}-run-${version}`;
      await producer.publish([
        createEvent('dataset.materialized', {
          source: 'feature-store',
          subject: 'fv',
          data: { datasetId, version: 1, hash: HASH, featureView: 'fv', uri, rowCount: rows, schema: [{ name: 'a', type: 'number' }, { name: 'b', type: 'number' }] },
        }) as AnyEvent,
        createEvent('training.completed', {
          source: 'trainer',
          subject: model,
          data: { jobId: runId, model, runId, datasetId, artifactUri: 'file:///m.onnx', metrics: { accuracy: 0.9 }, params: { features: 'a,b' } },
        }) as AnyEvent,
        createEvent('model.registered', { source: 'registry', subject: model, data: { model, version, runId, artifactHash: HASH } }) as AnyEvent,
      ]);
    }
    await producer.publish(createEvent('deployment.completed', { source: 'serving', subject: model, data: { model, version: 1, status: 'serving', trafficShare: 1 } }) as AnyEvent);
    await producer.publish(createEvent('model.promoted', { source: 'registry', subject: model, data: { model, version: 1, alias: 'champion' } }) as AnyEvent);
    await waitFor(async () => (await status()).champion === 1, 'champion v1', 60_000);
    const deployment = createEvent('deployment.completed', {
      source: 'serving',
      subject: model,
      correlationId: `loop-${run}`,
      data: { model, version: 2, status: 'serving', trafficShare: 0.1 },
    });
    await producer.publish(deployment as AnyEvent);
    await waitFor(async () => (await status()).canary?.version === 2, 'canary v2');
    await waitFor(async () => (await status()).versions.every((v: { reference: { status: string } }) => v.reference.status === 'ready'), 'both references from the training dataset');

    await predictAndLabel(1, 60, 57, 60); // champion accuracy 0.95
    await predictAndLabel(2, 60, 36, 60); // canary accuracy 0.6
    // Generous: a loaded machine.
    await waitFor(async () => (await labels(1)) === 60 && (await labels(2)) === 60, '120 labels counted', 90_000);
    await waitFor(async () => (await status()).canary?.predictions >= 60, '60 canary predictions');

    await monitoring.kill();
    const port = Number(new URL(url).port);
    monitoring = start(port);
    await monitoring.waitUntilReady(`${url}/health/ready`);
    const restored = await status();
    expect(restored).toMatchObject({ champion: 1, canary: { version: 2, status: 'watching', labels: { canary: 60, champion: 60 } } });
    expect(restored.canary.predictions).toBeGreaterThanOrEqual(60);
    expect(restored.versions.map((v: { reference: { status: string } }) => v.reference.status)).toEqual(['ready', 'ready']);
    expect(verdicts).toEqual([]);

    await predictAndLabel(2, 40, 40, 0);
    await waitFor(() => verdicts.length >= 1, 'canary.evaluated', 60_000);
    const [verdict] = verdicts;
    expect(verdict.correlationId).toBe(deployment.correlationId);
    expect(verdict.data).toMatchObject({ model, version: 2, championVersion: 1, verdict: 'rollback', labels: 60, metric: 'accuracy', canaryValue: 0.6, championValue: 0.95 });
    expect(verdict.data.predictions).toBeGreaterThanOrEqual(100);

    // more canary traffic after the verdict: still one
    await predictAndLabel(2, 50, 50, 0);
    await predictionsSettled();
    expect(await metric(`mlops_monitoring_predictions_total{model="${model}",version="2"}`)).toBeGreaterThanOrEqual(90); // 40 + 50 since the restart
    expect((await status()).canary).toMatchObject({ status: 'evaluated', verdict: { verdict: 'rollback' } });
    // decided by this (restarted) process, once
    expect(await metric(`mlops_monitoring_canary_verdicts_total{model="${model}",verdict="rollback"}`)).toBe(1);
    expect(verdicts).toHaveLength(1);
  }, 300_000);
});

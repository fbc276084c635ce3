import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { EventBus, InProcessTransport } from '@mlops/bus';
import { createEvent, encodePredictionTensors, type AnyEvent } from '@mlops/contracts';
import { readmeBlocks } from '../../../test/support/readme';
import { waitFor } from '../../../test/support/wait-for';
import { startMonitoring, type MonitoringApp } from './monitoring.app';
import { loadMonitoringConfig } from './monitoring.config';

const HASH = 'c'.repeat(64);
const FEATURES = ['tenure', 'monthly_charges'];

/**
 * README "Monitoring service": the drift evidence of a model trained on a view with `tenure`
 * and `monthly_charges` names them, from events alone (lineage, deployment, prediction.logged
 * as serving writes it for a model whose ONNX metadata has feature_names).
 */
/** Runs a README block against the monitor; `shown` is the output the README shows (its comment lines, joined; times as `…`). */
async function runBlock(block: string, url: string) {
  const shown = block
    .split('\n')
    .filter((line) => line.startsWith('# '))
    .map((line) => line.slice(2).trimStart())
    .join('');
  const script = block.replace('http://127.0.0.1:3007', url).replace(/^curl /m, 'curl -fsS ');
  const { stdout } = await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', script]);
  return { stdout: stdout.trim().replace(/"\d{4}-\d\d-\d\dT[\d:.]+Z"/g, '"…"'), shown };
}

describe('README Monitoring service: drift evidence names the features', () => {
  let dir: string;
  let monitor: MonitoringApp;
  const transport = new InProcessTransport();
  const bus = new EventBus(transport);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'monitoring-readme-'));
    monitor = await startMonitoring(
      loadMonitoringConfig({ DATABASE_URL: `sqlite:${join(dir, 'm.db')}`, MONITORING_PORT: '0', MONITORING_WINDOW_SIZE: '100', MONITORING_REFERENCE_ROWS: '500' }),
      { inProcess: transport, logger: false, defaultMetrics: false },
    );
  });
  afterAll(async () => {
    await monitor?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs the example as written: the last window\'s evidence by feature name', async () => {
    // The training dataset: tenure 0..59, monthly_charges 20..119, both evenly spread.
    const n = 500;
    const uri = join(dir, 'churn-v1.arrow');
    const tenure = Float64Array.from({ length: n }, (_, i) => i % 60);
    const charges = Float64Array.from({ length: n }, (_, i) => 20 + ((i * 37) % 100));
    writeFileSync(uri, tableToIPC(tableFromArrays({ tenure, monthly_charges: charges, label: Float64Array.from({ length: n }, (_, i) => i % 2) }), 'file'));
    const runId = 'churn-run-1';
    await bus.publish([
      createEvent('dataset.materialized', {
        source: 'feature-store',
        subject: 'churn_features',
        data: { datasetId: 'churn_features-v1', version: 1, hash: HASH, featureView: 'churn_features', uri, rowCount: n, schema: [...FEATURES, 'label'].map((name) => ({ name, type: 'number' as const })) },
      }) as AnyEvent,
      createEvent('training.completed', {
        source: 'trainer',
        subject: 'churn',
        data: { jobId: 'job-1', model: 'churn', runId, datasetId: 'churn_features-v1', artifactUri: 'file:///churn.onnx', metrics: { accuracy: 0.9 }, params: { features: FEATURES.join(',') } },
      }) as AnyEvent,
      createEvent('model.registered', { source: 'registry', subject: 'churn', data: { model: 'churn', version: 1, runId, artifactHash: HASH } }) as AnyEvent,
      createEvent('deployment.completed', { source: 'serving', subject: 'churn', data: { model: 'churn', version: 1, status: 'serving', trafficShare: 1 } }) as AnyEvent,
    ]);
    await waitFor(async () => (await fetch(`${monitor.url}/models/churn/versions/1/reference`)).ok, 'the reference from the training dataset');

    // One window of traffic: tenure shifted far above anything trained on, monthly_charges as in training.
    const rows = Array.from({ length: 100 }, (_, i) => [80 + (i % 10), 20 + ((i * 37) % 100)]);
    await bus.publish(
      createEvent('prediction.logged', {
        source: 'serving',
        subject: 'churn',
        data: encodePredictionTensors({
          model: 'churn',
          version: 1,
          requestKey: 'r-1',
          latencyMs: 1,
          predictionIds: rows.map((_, i) => `r-1:${i}`),
          rows: rows.map((_, i) => i),
          inputs: [{ name: 'input', datatype: 'FP32', shape: [rows.length, 2], data: Float32Array.from(rows.flat()), featureNames: FEATURES }],
          outputs: [{ name: 'label', datatype: 'INT64', shape: [rows.length], data: new BigInt64Array(rows.length) }],
        }),
      }) as AnyEvent,
    );
    await waitFor(() => {
      try {
        return monitor.service.drift('churn');
      } catch {
        return undefined;
      }
    }, 'the first window of churn');

    const blocks = readmeBlocks('Monitoring service');
    const block = blocks.find((b) => /\/drift$/m.test(b))!;
    const { stdout, shown } = await runBlock(block, monitor.url);
    expect(stdout).toBe(shown);
    // The drift history, after the window above: MONITORING is the first block's.
    const history = blocks.find((b) => b.includes('/drift/history'))!;
    await waitFor(async () => ((await (await fetch(`${monitor.url}/models/churn/drift/history`)).json()) as { windows: unknown[] }).windows.length > 0 || undefined, 'the window stored');
    const answer = await runBlock(`MONITORING=${monitor.url}\n${history}`, monitor.url);
    expect(answer.stdout).toBe(answer.shown);
  });
});

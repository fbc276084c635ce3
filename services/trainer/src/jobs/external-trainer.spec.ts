import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EventBus, InProcessTransport, type Subscription } from '@mlops/bus';
import { decodeEvent, type AnyEvent, type EventEnvelope } from '@mlops/contracts';
import { interopPython } from '../../../../test/support/python';
import { waitFor } from '../../../../test/support/wait-for';
import { trainLinear } from '../builtin/linear-trainer';
import { readModel } from '../onnx/graph';
import { onnxAccuracy, writeSeparableDataset, type SyntheticDataset } from '../test/synthetic-dataset';
import { startTrainer, type TrainerApp } from '../trainer.app';
import { loadTrainerConfig } from '../trainer.config';

const SKLEARN_TRAINER = resolve(__dirname, '../../../../test/fixtures/trainer/train_sklearn.py');

describe('external trainer (TRAINER_COMMAND: DATASET_PATH/DATASET_CSV in, OUTPUT_DIR/model.onnx + metrics.json out)', () => {
  let dir: string;
  let dataset: SyntheticDataset;
  const apps: TrainerApp[] = [];
  const subscriptions: Subscription[] = [];

  /** A trainer with the given command, and the training.* events it publishes. */
  async function trainerWith(command: string) {
    const transport = new InProcessTransport();
    const app = await startTrainer(
      loadTrainerConfig({ TRAINER_PORT: '0', TRAINER_ARTIFACT_ROOT: join(dir, 'models'), TRAINER_COMMAND: command, TRAINER_COMMAND_TIMEOUT_MS: '60000' }),
      { inProcess: transport, logger: false },
    );
    apps.push(app);
    const events: AnyEvent[] = [];
    subscriptions.push(
      await new EventBus(transport).subscribe({
        group: 'observer',
        topics: ['training.started', 'training.completed', 'training.failed'],
        handle: async (m) => void events.push(decodeEvent(m.value)),
      }),
    );
    const run = async (model: string) => {
      const { job, done } = app.service.submit({ model, datasetUri: dataset.path });
      await done;
      return waitFor(() => events.find((e) => (e.type === 'training.completed' || e.type === 'training.failed') && e.data.jobId === job.jobId), 'training outcome');
    };
    return { app, events, run };
  }

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'trainer-external-'));
    dataset = writeSeparableDataset(join(dir, 'data.arrow'));
  });
  afterAll(async () => {
    for (const s of subscriptions) await s.stop();
    for (const a of apps) await a.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs a scikit-learn + skl2onnx script end to end: training.completed with its metrics and a model onnxruntime-node runs', async () => {
    const { run, events } = await trainerWith(`"${interopPython()}" "${SKLEARN_TRAINER}"`);
    const outcome = (await run('churn-sk')) as EventEnvelope<'training.completed'>;
    expect(outcome.type).toBe('training.completed');
    expect(events[0]).toMatchObject({ type: 'training.started', data: { trainer: 'command' } });
    expect(outcome.data).toMatchObject({
      model: 'churn-sk',
      codeVersion: 'dev',
      params: { trainer: 'command', target: 'label', features: 'x1,x2' },
      metrics: { test_rows: 80, train_rows: 320 },
      signature: {
        inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 2] }],
        outputs: expect.arrayContaining([
          { name: 'label', datatype: 'INT64', shape: [-1] },
          { name: 'probabilities', datatype: 'FP32', shape: [-1, 2] },
        ]),
      },
    });
    expect(outcome.data.metrics.accuracy).toBeGreaterThan(0.9);
    expect(await onnxAccuracy(outcome.data.artifactUri, dataset.rows)).toBeGreaterThan(0.9);
    // skl2onnx names no columns: the trainer adds the dataset's feature order, as the built-in trainer writes it.
    expect(readModel(readFileSync(outcome.data.artifactUri)).metadata.feature_names).toBe('["x1","x2"]');
  }, 120_000);

  it('fails with training.failed naming the missing or invalid output file', async () => {
    const node = `"${process.execPath}" -e`;
    const nothing = await trainerWith(`${node} "0"`);
    expect((await nothing.run('m-none')).data).toMatchObject({ error: expect.stringContaining('did not write model.onnx') });

    const noMetrics = await trainerWith(`${node} "require('fs').writeFileSync(process.env.OUTPUT_DIR + '/model.onnx', 'x')"`);
    expect((await noMetrics.run('m-nometrics')).data).toMatchObject({ error: expect.stringContaining('did not write metrics.json') });

    const garbage = await trainerWith(`${node} "const fs=require('fs'); fs.writeFileSync(process.env.OUTPUT_DIR + '/model.onnx', 'not a model'); fs.writeFileSync(process.env.OUTPUT_DIR + '/metrics.json', '{}')"`);
    expect((await garbage.run('m-garbage')).data).toMatchObject({ error: expect.stringMatching(/^model\.onnx is not a valid ONNX model/) });

    const badMetrics = await trainerWith(`${node} "const fs=require('fs'); fs.writeFileSync(process.env.OUTPUT_DIR + '/model.onnx', 'x'); fs.writeFileSync(process.env.OUTPUT_DIR + '/metrics.json', '[1,')"`);
    expect((await badMetrics.run('m-badmetrics')).data).toMatchObject({ error: expect.stringContaining('metrics.json written by the external trainer is not valid JSON') });

    const crash = await trainerWith(`${node} "console.error('boom: out of memory'); process.exit(3)"`);
    expect((await crash.run('m-crash')).data).toMatchObject({ error: expect.stringMatching(/exited with 3: boom: out of memory/) });
  }, 60_000);

  it('passes the dataset to the command as DATASET_PATH (Arrow) and DATASET_CSV, with TARGET, FEATURES, SEED and params', async () => {
    const prebuilt = join(dir, 'prebuilt.onnx');
    writeFileSync(prebuilt, trainLinear({ features: ['a'], rows: [[0], [1], [2], [3]], target: [0, 0, 1, 1] }, { epochs: 5 }).model);
    const script = join(dir, 'echo-env.js');
    writeFileSync(
      script,
      `const fs = require('fs');
       const out = process.env.OUTPUT_DIR;
       const csv = fs.readFileSync(process.env.DATASET_CSV, 'utf8').trim().split('\\n');
       const keys = ['DATASET_PATH', 'TARGET', 'FEATURES', 'SEED', 'MODEL_NAME', 'TRAINER_PARAMS'];
       fs.writeFileSync(out + '/env.json', JSON.stringify({ header: csv[0], ...Object.fromEntries(keys.map((k) => [k, process.env[k]])) }));
       fs.copyFileSync(${JSON.stringify(prebuilt)}, out + '/model.onnx');
       fs.writeFileSync(out + '/metrics.json', JSON.stringify({ csv_rows: csv.length - 1, note: 'strings are ignored' }));`,
    );
    const { run } = await trainerWith(`"${process.execPath}" "${script}"`);
    const outcome = (await run('m-env')) as EventEnvelope<'training.completed'>;
    expect(outcome.type).toBe('training.completed');
    expect(outcome.data.metrics).toEqual({ csv_rows: 400 });
    const env = JSON.parse(readFileSync(join(outcome.data.artifactUri, '..', 'env.json'), 'utf8'));
    expect(env).toEqual({ header: 'x1,x2,label', DATASET_PATH: dataset.path, TARGET: 'label', FEATURES: 'x1,x2', SEED: '42', MODEL_NAME: 'm-env', TRAINER_PARAMS: '{}' });
  });
});

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runEmbedded } from '../../platform/embedded/src/embedded';
import { readmeBlocks } from '../support/readme';

const SECTIONS = ['Feature store service', 'Trainer service', 'Loop controller service'];

/** The README blocks of a section that go through the front door, as written, with this platform's port for 8080. */
async function runBlocks(section: string, url: string): Promise<string> {
  // The loop section's trigger examples are run by platform/embedded/src/loop-triggers.readme.spec.ts.
  const blocks = readmeBlocks(section).filter((b) => b.includes('127.0.0.1:8080') && !b.includes('/loop/api/triggers'));
  if (blocks.length === 0) throw new Error(`README "${section}" has no front door example`);
  const script = blocks.join('\n').replaceAll('127.0.0.1:8080', new URL(url).host).replace(/^curl /gm, "curl -fsS -w '\\n' ");
  const { stdout } = await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', script], { timeout: 60_000 });
  return stdout;
}

/** Each JSON answer printed by a block, in order. */
const answers = (stdout: string): any[] => stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));

describe('README: run-time feature views, datasets, trainer jobs by dataset, the loop view (embedded platform, front door)', () => {
  let dataDir: string;
  const outputs: Record<string, string> = {};
  let failure: unknown;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'mlops-views-readme-'));
    const lines: string[] = [];
    const summary = await runEmbedded({
      dataDir,
      port: 0,
      grpcPort: 0,
      records: 400,
      shiftRecords: 400,
      windowSize: 100,
      promoteAfter: 20,
      epochs: 50,
      stepTimeoutMs: 20_000,
      serve: false,
      print: (line) => lines.push(line),
      whileServing: async ({ url }) => {
        try {
          for (const section of SECTIONS) outputs[section] = await runBlocks(section, url);
        } catch (error) {
          failure = error;
        }
      },
    });
    if (!summary.url && !failure) failure = new Error(`the embedded platform did not serve:\n${lines.join('\n')}`);
  }, 240_000);
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('runs every front door example of the three sections', () => {
    expect(failure).toBeUndefined();
  });

  it('Feature store: defines a view backfilled from the stream, lists it with its version, materializes it; trains only when asked', () => {
    const [put, one, all, dataset, trained, rows] = answers(outputs['Feature store service']);
    expect(put).toMatchObject({ name: 'stream_activity', version: 1, changed: true });
    expect(put.backfilled).toBeGreaterThan(0);
    expect(one).toMatchObject({ name: 'stream_activity', version: 1, featureNames: ['last_f0', 'events_1h', 'f0_mean_1h'] });
    expect(all.featureViews.map((v: { name: string; version: number }) => [v.name, v.version])).toEqual([
      ['stream_features', 1],
      ['stream_activity', 1],
    ]);
    expect(dataset).toMatchObject({ datasetId: 'stream_activity-v1', rowCount: put.backfilled, changed: true });
    expect(dataset.model).toBeUndefined();
    expect(trained).toMatchObject({ featureView: 'stream_features', model: 'stream_model_b' });
    expect(rows).toEqual({ name: 'stream_activity', version: 1, rows: put.backfilled });
  });

  it('Trainer: a job on a dataset by reference carries its lineage', () => {
    const [job, list] = answers(outputs['Trainer service']);
    expect(job).toMatchObject({ model: 'stream_model_mlp', datasetId: 'stream_features-v1', datasetHash: expect.stringMatching(/^[a-f0-9]{64}$/) });
    expect(list.jobs.map((j: { jobId: string }) => j.jobId)).toContain(job.jobId);
  });

  it("Loop: sets the view a model retrains from (checked against the feature store) and its retrains' training params, and reads them back", () => {
    const [put, get, putParams, getParams] = answers(outputs['Loop controller service']);
    expect(put).toMatchObject({ model: 'stream_model', featureView: 'stream_activity', from: 'api' });
    expect(get).toEqual(put);
    expect(putParams).toMatchObject({ model: 'stream_model', params: { algorithm: 'mlp', hiddenLayers: [16], epochs: 150 }, from: 'api' });
    expect(getParams).toEqual(putParams);
  });
});

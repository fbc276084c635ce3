import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadLoopConfig, startLoop, type LoopDetail } from '@mlops/service-loop';
import { mlflowThroughFrontDoor, mlflowTutorial, type FrontDoorClientResult, type TutorialResult } from '../../../test/support/mlflow-front-door';
import { interopPython } from '../../../test/support/python';
import { readmeBlocks } from '../../../test/support/readme';
import { runEmbedded, type EmbeddedOptions, type EmbeddedSummary } from './embedded';
import { frontDoorIndex } from './front-door/routes';

const LOOP = [
  'drift.detected',
  'retrain.requested',
  'dataset.materialized',
  'training.completed',
  'model.registered',
  'deployment.requested',
  'deployment.completed',
  'model.promoted',
] as const;

/** Small and fast: a few hundred records, short windows, a quick canary. */
const run = (dataDir: string, lines: string[], overrides: Partial<EmbeddedOptions> = {}) =>
  runEmbedded({
    dataDir,
    port: 0,
    grpcPort: 0,
    records: 800,
    shiftRecords: 800,
    windowSize: 150,
    promoteAfter: 30,
    epochs: 100,
    stepTimeoutMs: 20_000,
    serve: false,
    print: (line) => lines.push(line),
    ...overrides,
  });

const loopEvents = (summary: EmbeddedSummary) => summary.events.filter((e) => e.correlationId === summary.loopCorrelationId);
const acted = (loop: LoopDetail | undefined) => (loop?.stages ?? []).filter((s) => !s.ignored).map((s) => s.type);

/** What the front door answered while the platform was up after the loop. */
interface ThroughFrontDoor {
  url: string;
  client: FrontDoorClientResult;
  answers: Record<string, { status: number; body: string }>;
  /** What README's "Front door" example printed, run against this platform. */
  readme: string;
  /** The MLflow tutorial flow (log_model ... load_model, then an ONNX model served over gRPC). */
  tutorial: TutorialResult;
}

/**
 * README's embedded front door example, as written, against a platform already serving at
 * `url` (its `npm start -- --serve` line is what this test runs): bash, with the interop venv's
 * python, this platform's port for 8080, and curl failing on an HTTP error.
 */
async function runReadmeExample(url: string): Promise<string> {
  const block = readmeBlocks('Front door').find((b) => b.includes('export MLFLOW_TRACKING_URI='));
  if (!block) throw new Error('README "Front door" has no bash block setting MLFLOW_TRACKING_URI');
  const script = block
    .split('\n')
    .filter((line) => !line.startsWith('npm start'))
    .join('\n')
    .replaceAll('http://127.0.0.1:8080', url)
    .replaceAll('127.0.0.1:8080', new URL(url).host)
    .replace(/^python /m, `${interopPython()} `)
    .replace(/^curl /gm, 'curl -fsS ');
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('MLFLOW_')));
  const { stdout } = await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', script], { env, timeout: 90_000 });
  return stdout;
}

describe('embedded platform: the closed loop in one process (in-process bus, SQLite, real gRPC)', () => {
  let dataDir: string;
  let summary: EmbeddedSummary;
  let front: ThroughFrontDoor | undefined;
  let frontError: unknown;
  const lines: string[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'mlops-embedded-'));
    summary = await run(dataDir, lines, {
      // After the loop, with everything still up: the one HTTP port as a user sees it.
      whileServing: async ({ url, model, grpc }) => {
        try {
          const client = await mlflowThroughFrontDoor(url, { experiment: 'front-door', newModel: 'front_door_model', existingModel: model });
          const answers: ThroughFrontDoor['answers'] = {};
          for (const path of ['/', '/healthz', '/ingestion/health/ready', '/tracking/health', `/loop/api/loops?model=${model}`, `/registry/models/${model}/versions/2/gate`, `/serving/v2/models/${model}`, '/serving/metrics', '/monitoring/status', '/nowhere']) {
            const response = await fetch(`${url}${path}`);
            answers[path] = { status: response.status, body: await response.text() };
          }
          const readme = await runReadmeExample(url);
          const tutorial = await mlflowTutorial(url, { experiment: 'tutorial', model: 'tutorial_sklearn', onnxModel: 'tutorial_onnx', servingGrpc: grpc });
          front = { url, client, answers, readme, tutorial };
        } catch (error) {
          frontError = error;
        }
      },
    });
  }, 300_000);
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('completes: drift -> retrain -> dataset -> training -> gate -> canary deployment -> verdict -> promotion', () => {
    expect(summary.stoppedAt, lines.join('\n')).toBeUndefined();
    expect(summary.completed).toBe(true);
    expect(summary.steps.every((s) => s.ok)).toBe(true);
    expect(summary.firstVersion).toBe(1);
    expect(summary.newVersion).toBe(2);
    expect(summary.championAfter).toBe(2);
  });

  it('publishes the loop events in order, all with the correlation id of the drift event', () => {
    const drift = summary.events.find((e) => e.type === 'drift.detected')!;
    expect(drift).toBeDefined();
    const loop = summary.events.filter((e) => e.correlationId === drift.correlationId);
    const firsts = LOOP.map((type) => loop.findIndex((e) => e.type === type));
    expect(firsts.every((i) => i >= 0), JSON.stringify(loop.map((e) => e.type))).toBe(true);
    expect([...firsts].sort((a, b) => a - b)).toEqual(firsts);
    expect(summary.loopCorrelationId).toBe(drift.correlationId);
    // one retrain per loop (debounce)
    expect(loop.filter((e) => e.type === 'retrain.requested')).toHaveLength(1);
    const deployment = loop.find((e) => e.type === 'deployment.requested')!.event;
    expect(deployment.type === 'deployment.requested' && deployment.data.strategy).toBe('canary');
    const promoted = loop.find((e) => e.type === 'model.promoted')!.event;
    expect(promoted.type === 'model.promoted' && promoted.data).toMatchObject({ version: 2, alias: 'champion', previousVersion: 1 });
  });

  it('the loop service records the loop: outcome promoted, every stage in order, with durations', () => {
    const loop = summary.loop!;
    expect(loop).toMatchObject({ correlationId: summary.loopCorrelationId, status: 'closed', outcome: 'promoted', candidateVersion: 2, driftVersion: 1 });
    expect(loop.outcomeReason).toMatch(/version 2 is champion \(was version 1\)/);
    const stages = acted(loop);
    const expected = [...LOOP.slice(0, 3), 'training.started', ...LOOP.slice(3, 7), 'canary.evaluated', 'model.promoted'];
    expect(stages.filter((t) => expected.includes(t))).toEqual(expected);
    const verdict = loop.stages.find((s) => s.type === 'canary.evaluated')!;
    expect(verdict.facts).toMatchObject({ version: 2, championVersion: 1, verdict: 'promote' });
    expect(Number(verdict.facts.predictions)).toBeGreaterThanOrEqual(30);
    const last = loop.stages.filter((s) => !s.ignored).at(-1)!;
    expect(loop.durationMs).toBe(last.sinceStartMs);
    expect(loop.stages.every((s) => s.sinceStartMs >= 0)).toBe(true);
  });

  it('the drift evidence names the shifted features: names flow from the data contract through the model to drift.detected', () => {
    expect(summary.driftBeforeShift).toBe(false);
    // The drift.detected event itself (not a printed line) names features: contract -> view ->
    // dataset -> the trained model's ONNX feature_names -> serving -> prediction.logged -> monitoring.
    expect(summary.driftedFeatures.length).toBeGreaterThanOrEqual(4);
    expect(summary.driftedFeatures.every((f) => /^f[0-7]$/.test(f)), summary.driftedFeatures.join(', ')).toBe(true);
    // Which shifted columns cross the threshold first depends on where the window falls
    // against the shift (a window straddling it may drift on f1-f4 only): any of f0-f5 by
    // name, with KS (a reference under 1,000 rows), and no input[i] key. (An unshifted
    // column may drift too: each test has a 5% false-positive rate.)
    const driftLines = lines.filter((l) => l.includes('drift.detected'));
    expect(driftLines.some((l) => /\bf[0-5] ks=/.test(l)), `no drift line names a shifted feature with KS:\n${driftLines.join('\n')}`).toBe(true);
    expect(driftLines.filter((l) => /input\[\d+\]/.test(l))).toEqual([]);
    // Serving's model metadata names the columns of the input, in the data contract's order.
    expect(JSON.parse(front!.answers['/serving/v2/models/stream_model'].body)).toMatchObject({
      inputs: [{ name: 'input', shape: [-1, 8] }],
      parameters: { feature_names: ['f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7'] },
    });
  });

  it('the new version answers gRPC predictions on 100% of traffic, and no gRPC request failed during the loop', () => {
    expect(summary.answeringVersion).toBe('2');
    expect(summary.answeredAfter).toEqual({ '2': 20 });
    expect(summary.grpc.byVersion['2']).toBeGreaterThan(0);
    expect(summary.grpc.byVersion['1']).toBeGreaterThan(0);
    expect(summary.grpc.failed).toBe(0);
    expect(summary.grpc.requests).toBeGreaterThan(0);
    expect(summary.grpc.labels).toBeGreaterThan(0);
  });

  it('every produced record was validated (no loss through ingestion)', () => {
    expect(summary.validated).toBe(summary.produced);
    expect(summary.rejected).toBe(0);
  });

  it('serves every HTTP API on one port: the mlflow client with MLFLOW_TRACKING_URI alone reaches tracking and the registry', () => {
    expect(frontError).toBeUndefined();
    expect(front, lines.join('\n')).toBeDefined();
    const { url, client } = front!;
    expect(url).toBe(summary.url);
    expect(client).toMatchObject({
      status: 'FINISHED',
      params: { lr: '0.1' },
      history: [[0, 1], [1, 0.5], [2, 1 / 3]],
      artifacts: ['notes.txt'],
      created: 'front_door_model',
      fetched: { name: 'front_door_model', tags: { origin: 'front-door' } },
      // The platform's own model, registered by the loop, read through the same URL.
      existing: { name: 'stream_model', aliases: { champion: '2' } },
    });
    // The client's "View run at" link points at the front door (its `/` answers; the console will live there).
    expect(client.viewRunUrl).toBe(`${url}/#/experiments/${client.experiment_id}/runs/${client.run_id}`);
    // What the platform printed names the front door too.
    expect(lines.find((l) => l.startsWith('all services up'))).toContain(`HTTP on one port: ${url} (MLFLOW_TRACKING_URI=${url}`);
  });

  it('runs the MLflow tutorial with MLFLOW_TRACKING_URI alone: log_model, search_runs, register_model, Production stage, load_model; the ONNX flavor is served over gRPC', () => {
    expect(frontError).toBeUndefined();
    const { tutorial } = front!;
    // search_runs(order_by=["metrics.f1_score DESC"]) put the best run first.
    expect(tutorial.f1_scores).toEqual([...tutorial.f1_scores].sort((a, b) => b - a));
    expect(tutorial.best_f1).toBe(tutorial.f1_scores[0]);
    expect(tutorial.artifacts).toEqual(expect.arrayContaining(['coefficients.png']));
    expect(tutorial).toMatchObject({ version: '1', stage: 'Production', onnx_version: '1', onnx_stage: 'Production' });
    // pyfunc.load_model("models:/<name>/Production") is the best run's scikit-learn model.
    expect(tutorial.sklearn_predictions).toEqual(tutorial.expected_predictions);
    expect(tutorial.onnx_pyfunc_outputs).toEqual(['label', 'probabilities']);
    // The same rows over KServe v2 gRPC from the promoted ONNX version give the labels mlflow.pyfunc gave.
    expect(tutorial.grpc_labels).toEqual(tutorial.onnx_labels);
    expect(tutorial.grpc_labels).toHaveLength(5);
  });

  it('runs README\'s front door example: the mlflow client, the registry and the service paths on the one port', () => {
    const { url, readme } = front!;
    expect(readme).toContain(`View run`);
    expect(readme).toContain(`${url}/#/experiments/`);
    expect(readme).toContain(`{'champion': '2'}`);
    expect(readme).toContain(JSON.stringify(frontDoorIndex()));
    expect(readme).toMatch(/"passed":true/);
  });

  it('routes /<service>/... to that service without the prefix, each with its own answers; / lists the paths', () => {
    const { answers } = front!;
    const status = Object.fromEntries(Object.entries(answers).map(([path, a]) => [path, a.status]));
    expect(status).toEqual({
      '/': 200,
      '/healthz': 200,
      '/ingestion/health/ready': 200,
      '/tracking/health': 200,
      '/loop/api/loops?model=stream_model': 200,
      '/registry/models/stream_model/versions/2/gate': 200,
      '/serving/v2/models/stream_model': 200,
      '/serving/metrics': 200,
      '/monitoring/status': 200,
      '/nowhere': 404,
    });
    expect(JSON.parse(answers['/'].body)).toEqual(frontDoorIndex());
    const loops = JSON.parse(answers['/loop/api/loops?model=stream_model'].body) as { loops: { correlationId: string }[] };
    expect(loops.loops.map((l) => l.correlationId)).toContain(summary.loopCorrelationId);
    expect(JSON.parse(answers['/registry/models/stream_model/versions/2/gate'].body)).toMatchObject({ passed: true });
    expect(answers['/serving/metrics'].body).toMatch(/^mlops_/m);
    expect(JSON.parse(answers['/nowhere'].body)).toMatchObject({ error_code: 'ENDPOINT_NOT_FOUND' });
  });

  it('loop state survives a restart: the loop service on the same SQLite file answers over HTTP', async () => {
    const loop = await startLoop(loadLoopConfig({ BUS: 'in-process', DATABASE_URL: `sqlite:${join(dataDir, 'loop.db')}`, LOOP_PORT: '0' }), { logger: false, defaultMetrics: false });
    try {
      const response = await fetch(`${loop.url}/api/loops/${summary.loopCorrelationId}`);
      expect(response.status).toBe(200);
      const { loop: record } = (await response.json()) as { loop: LoopDetail };
      expect(record).toEqual(summary.loop);
      const list = (await (await fetch(`${loop.url}/api/loops?model=stream_model&status=closed`)).json()) as { loops: { correlationId: string; outcome: string }[] };
      expect(list.loops).toEqual([expect.objectContaining({ correlationId: summary.loopCorrelationId, outcome: 'promoted' })]);
    } finally {
      await loop.close();
    }
  });
});

describe('embedded platform: a worse retrained model is stopped', () => {
  let dataDir: string;
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('by the registry gate: trained on inverted labels it scores lower; the loop ends rejected_by_gate and the champion keeps serving', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'mlops-embedded-gate-'));
    const lines: string[] = [];
    const summary = await run(dataDir, lines, { shiftedLabels: 'inverted' });
    expect(summary.stoppedAt, lines.join('\n')).toBeUndefined();
    expect(summary.loop).toMatchObject({ status: 'closed', outcome: 'rejected_by_gate', candidateVersion: 2 });
    expect(summary.loop!.outcomeReason).toMatch(/gate rejected version 2: .*reject/);
    expect(acted(summary.loop)).toEqual(expect.arrayContaining(['drift.detected', 'retrain.requested', 'training.completed', 'model.registered']));
    expect(acted(summary.loop)).not.toContain('deployment.requested');
    const types = loopEvents(summary).map((e) => e.type);
    expect(types).not.toContain('deployment.requested');
    expect(types).not.toContain('model.promoted');
    expect(summary.completed).toBe(true);
    expect(summary.championAfter).toBe(1);
    expect(summary.answeredAfter).toEqual({ '1': 20 });
    expect(summary.grpc.byVersion['2']).toBeUndefined();
    expect(summary.grpc.failed).toBe(0);
  }, 60_000);

  it('by the canary verdict: past a lenient gate, it scores worse on live labels; rolled back, the champion serves 100%', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'mlops-embedded-canary-'));
    const lines: string[] = [];
    const summary = await run(dataDir, lines, { shiftedLabels: 'inverted', gateTolerance: 1, promoteAfter: 150, canaryMinLabels: 25, labelShare: 1 });
    expect(summary.stoppedAt, lines.join('\n')).toBeUndefined();
    expect(summary.loop).toMatchObject({ status: 'closed', outcome: 'rolled_back', candidateVersion: 2 });
    const events = loopEvents(summary);
    const verdict = events.find((e) => e.type === 'canary.evaluated')?.event;
    expect(verdict?.type === 'canary.evaluated' && verdict.data).toMatchObject({ version: 2, championVersion: 1, verdict: 'rollback', metric: 'accuracy' });
    const rolledBack = events.find((e) => e.type === 'model.rolled_back')?.event;
    expect(rolledBack?.type === 'model.rolled_back' && rolledBack.data).toMatchObject({ version: 2, restoredVersion: 1 });
    expect(events.map((e) => e.type)).not.toContain('model.promoted');
    expect(acted(summary.loop)).toEqual(expect.arrayContaining(['deployment.requested', 'deployment.completed', 'canary.evaluated', 'model.rolled_back']));
    expect(summary.completed).toBe(true);
    expect(summary.championAfter).toBe(1);
    expect(summary.answeredAfter).toEqual({ '1': 20 });
    // The canary did answer live traffic before it was dropped.
    expect(summary.grpc.byVersion['2']).toBeGreaterThan(0);
    expect(summary.grpc.failed).toBe(0);
  }, 60_000);
});

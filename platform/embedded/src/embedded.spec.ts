import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runEmbedded, type EmbeddedSummary } from './embedded';

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

describe('embedded platform: the closed loop in one process (in-process bus, SQLite, real gRPC)', () => {
  let dataDir: string;
  let summary: EmbeddedSummary;
  const lines: string[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'mlops-embedded-'));
    summary = await runEmbedded({
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
    });
  }, 60_000);
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('completes: drift -> retrain -> dataset -> training -> gate -> canary deployment -> promotion', () => {
    expect(summary.stoppedAt, lines.join('\n')).toBeUndefined();
    expect(summary.completed).toBe(true);
    expect(summary.steps.every((s) => s.ok)).toBe(true);
    expect(summary.firstVersion).toBe(1);
    expect(summary.newVersion).toBe(2);
  });

  it('publishes the loop events in order, all with the correlation id of the drift event', () => {
    const drift = summary.events.find((e) => e.type === 'drift.detected')!;
    expect(drift).toBeDefined();
    const loop = summary.events.filter((e) => e.correlationId === drift.correlationId);
    const firsts = LOOP.map((type) => loop.findIndex((e) => e.type === type));
    expect(firsts.every((i) => i >= 0), JSON.stringify(loop.map((e) => e.type))).toBe(true);
    expect([...firsts].sort((a, b) => a - b)).toEqual(firsts);
    expect(summary.loopCorrelationId).toBe(drift.correlationId);
    // one retrain per episode (debounce)
    expect(loop.filter((e) => e.type === 'retrain.requested')).toHaveLength(1);
    const deployment = loop.find((e) => e.type === 'deployment.requested')!.event;
    expect(deployment.type === 'deployment.requested' && deployment.data.strategy).toBe('canary');
    const promoted = loop.find((e) => e.type === 'model.promoted')!.event;
    expect(promoted.type === 'model.promoted' && promoted.data).toMatchObject({ version: 2, alias: 'champion', previousVersion: 1 });
  });

  it('the drift names the shifted features, mapped back from serving input[i] keys', () => {
    expect(summary.driftBeforeShift).toBe(false);
    expect(summary.driftedFeatures.length).toBeGreaterThanOrEqual(4);
    expect(lines.some((l) => l.includes('drift.detected') && /f0 ks=/.test(l))).toBe(true);
  });

  it('the new version answers gRPC predictions, and no gRPC request failed during the loop', () => {
    expect(summary.answeringVersion).toBe('2');
    expect(summary.grpc.byVersion['2']).toBeGreaterThan(0);
    expect(summary.grpc.byVersion['1']).toBeGreaterThan(0);
    expect(summary.grpc.failed).toBe(0);
    expect(summary.grpc.requests).toBeGreaterThan(0);
  });

  it('every produced record was validated (no loss through ingestion)', () => {
    expect(summary.validated).toBe(summary.produced);
    expect(summary.rejected).toBe(0);
  });
});

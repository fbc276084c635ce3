import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { InProcessTransport } from '@mlops/bus';
import { createEvent } from '@mlops/contracts';
import { interopPython } from '../../../test/support/python';
import { QualityGate } from './gate/quality-gate';
import { startRegistry, type RegistryApp } from './registry.app';
import { loadRegistryConfig } from './registry.config';

/**
 * The gate scores a candidate against the champion outside the registration transaction
 * (scoring runs ONNX sessions). A promotion that lands in between must not leave a decision
 * made against a champion that no longer is one.
 */
describe('registry gate: the champion changes while a candidate is scored', () => {
  let registry: RegistryApp;
  let gateDir: string;
  let artifactRoot: string;

  beforeAll(async () => {
    gateDir = mkdtempSync(join(tmpdir(), 'registry-race-'));
    execFileSync(interopPython(), [resolve(__dirname, '../../../test/fixtures/registry/make_gate_models.py'), gateDir], { stdio: 'pipe' });
    artifactRoot = mkdtempSync(join(tmpdir(), 'registry-race-artifacts-'));
    registry = await startRegistry(
      loadRegistryConfig({ DATABASE_URL: 'sqlite::memory:', REGISTRY_PORT: '0', REGISTRY_ARTIFACT_ROOT: artifactRoot, REGISTRY_HOLDOUT_PATH: join(gateDir, 'holdout.json') }),
      { inProcess: new InProcessTransport(), logger: false },
    );
  }, 120_000);
  afterAll(async () => {
    await registry?.close();
    for (const dir of [gateDir, artifactRoot]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const completed = (artifact: string, jobId: string) =>
    createEvent('training.completed', { source: 'trainer', subject: 'race', data: { jobId, model: 'race', runId: jobId, artifactUri: artifact, metrics: {}, params: {} } });

  it('scores again against the new champion and records that decision', async () => {
    const service = registry.service;
    // v1: the shuffled (bad) model becomes champion; v2: the good model, registered by hand.
    await service.onTrainingCompleted(completed(join(gateDir, 'shuffled.onnx'), 'j1'));
    await service.promote('race', 1);
    await service.registerVersion({ name: 'race', bytes: readFileSync(join(gateDir, 'good.onnx')), source: 'upload' });

    // While the candidate (the same bad model) is scored against v1, v2 is promoted.
    const gate = registry.app.get(QualityGate);
    const evaluate = gate.evaluate.bind(gate);
    const championsScored: (number | null)[] = [];
    const spy = vi.spyOn(gate, 'evaluate').mockImplementation(async (candidate, champion) => {
      championsScored.push(champion?.version ?? null);
      const decision = await evaluate(candidate, champion);
      if (championsScored.length === 1) await service.promote('race', 2, 'promoted during the gate');
      return decision;
    });
    try {
      const followUps = await service.onTrainingCompleted(completed(join(gateDir, 'shuffled.onnx'), 'j3'));
      expect(championsScored).toEqual([1, 2]);
      const decision = await service.gateDecision('race', 3);
      // Against v1 (itself) it would have passed; against the real champion v2 it is rejected.
      expect(decision).toMatchObject({ champion_version: 2, passed: false, basis: 'holdout' });
      expect(decision.champion_score).toBeGreaterThan(0.75);
      expect(followUps.map((e) => e.type)).toEqual(['model.registered']);
    } finally {
      spy.mockRestore();
    }
  });
});

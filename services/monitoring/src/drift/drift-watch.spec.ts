import { encodePredictionTensors } from '@mlops/contracts';
import { MonitoringMetrics } from '../metrics';
import type { MonitoringSettings } from '../monitoring.settings';
import { loggedRows } from '../predictions/logged-rows';
import type { Cooldowns } from '../state/cooldowns';
import type { Outbox } from '../state/outbox';
import type { WriteLane } from '../state/write-lane';
import { DriftWatch } from './drift-watch';

const settings = { drift: { windowSize: 100, datasetDriftShare: 0.5, referenceFromFirst: 0 } } as MonitoringSettings;

/** One logged request of two rows, its input named (as serving logs a model with feature names) or not. */
const rows = (featureNames?: string[]) =>
  loggedRows(
    encodePredictionTensors({
      model: 'm',
      version: 1,
      latencyMs: 1,
      predictionIds: ['r:0', 'r:1'],
      rows: [0, 1],
      inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 2], data: Float32Array.from([1, 2, 3, 4]), featureNames }],
      outputs: [],
    }),
  );

describe('DriftWatch: reference keys against the logged rows', () => {
  function watch() {
    const warnings: string[] = [];
    // Cooldowns, the write lane and the outbox only serve a window that drifts: none here.
    const drift = new DriftWatch(settings, new MonitoringMetrics(), {} as Cooldowns, {} as WriteLane, {} as Outbox, () => 0, {
      log: () => undefined,
      warn: (m) => warnings.push(m),
      error: () => undefined,
    });
    drift.setReference('m', 1, { rows: Array.from({ length: 50 }, (_, i) => ({ age: i, tenure: i % 7 })) });
    return { drift, warnings };
  }

  it('says once when the reference is keyed otherwise than the rows (their values would all count as missing)', () => {
    const { drift, warnings } = watch();
    drift.onPredictions(rows(), '2026-01-01T00:00:00Z');
    drift.onPredictions(rows(), '2026-01-01T00:00:01Z');
    expect(warnings).toEqual([
      'drift reference of m v1 has features the logged predictions lack (age, tenure; they log input[0], input[1]): those count as missing values; set a reference keyed like them (PUT /models/m/versions/1/reference)',
    ]);
  });

  it('says nothing when the rows carry the reference\'s feature names', () => {
    const { drift, warnings } = watch();
    drift.onPredictions(rows(['age', 'tenure']), '2026-01-01T00:00:00Z');
    expect(warnings).toEqual([]);
    expect(drift.reference('m', 1).pending).toBe(2);
  });
});

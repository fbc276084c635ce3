import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { interopPython } from '../../../test/support/python';
import { buildReferenceProfile, DriftDetector, type DriftReport, type Scalar } from './index';

// Evidently's own verdicts (DataDriftPreset, evidently pinned in test/interop/requirements-monitoring.txt)
// on frames built in test/fixtures/drift/evidently_reference.py, against libs/drift on the same frames.
interface EvidentlyColumn {
  method: string;
  value: number;
  threshold: number;
  drifted: boolean;
}
interface EvidentlyCase {
  name: string;
  reference: Record<string, Scalar[]>;
  current: Record<string, Scalar[]>;
  columns: Record<string, EvidentlyColumn>;
  dataset: { count: number; share: number; drifted: boolean };
}
let evidently: { versions: Record<string, string>; cases: EvidentlyCase[] };

beforeAll(() => {
  const script = resolve(__dirname, '../../../test/fixtures/drift/evidently_reference.py');
  evidently = JSON.parse(execFileSync(interopPython(), [script], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }));
}, 600_000);

/** libs/drift's report on one case: the whole current frame as one window against the reference frame. */
function ours(c: EvidentlyCase): DriftReport {
  const names = Object.keys(c.current);
  const rows = c.current[names[0]].length;
  for (const name of names) expect(c.current[name], name).toHaveLength(rows);
  const detector = new DriftDetector(buildReferenceProfile({ columns: c.reference }), { windowSize: rows });
  let report: DriftReport | undefined;
  for (let i = 0; i < rows; i++) report = detector.add(Object.fromEntries(names.map((name) => [name, c.current[name][i]])));
  expect(report?.rows).toBe(rows);
  return report!;
}

const caseNamed = (name: string) => {
  const found = evidently.cases.find((c) => c.name === name);
  if (!found) throw new Error(`no Evidently case "${name}" (have: ${evidently.cases.map((c) => c.name).join(', ')})`);
  return found;
};

describe('drift test selection and verdicts vs Evidently', () => {
  it('compares against evidently 0.7.23', () => {
    expect(evidently.versions.evidently).toBe('0.7.23');
    expect(evidently.cases).toHaveLength(8);
  });

  it.each([
    'five-value integer column, one sixth value in current',
    'integer column, a value with expected count 0',
    'category unseen in the reference',
    'category missing from the current window',
    'binary columns',
    'large reference',
    'reference of exactly 1000 rows',
    'reference of 1001 rows',
  ])('%s: the same test, score (1e-6) and verdict per column, and the same dataset verdict', (name) => {
    const c = caseNamed(name);
    const report = ours(c);
    const byFeature = Object.fromEntries(report.features.map((f) => [f.feature, f]));
    expect(Object.keys(byFeature).sort()).toEqual(Object.keys(c.columns).sort());
    for (const [column, expected] of Object.entries(c.columns)) {
      const got = byFeature[column];
      const where = `${name} / ${column}: ours ${got.statistic} ${got.value}, Evidently ${expected.method} ${expected.value}`;
      expect(got.statistic, where).toBe(expected.method);
      expect(got.threshold, where).toBe(expected.threshold);
      expect(Math.abs(got.value - expected.value), where).toBeLessThanOrEqual(1e-6);
      expect(got.drifted, where).toBe(expected.drifted);
    }
    expect(report.datasetDrift.share).toBeCloseTo(c.dataset.share, 12);
    expect(report.datasetDrift.drifted).toBe(c.dataset.drifted);
  });

  it('a sixth value in a 5-value integer column is KS, not chi-squared with p = 0: no dataset drift', () => {
    const c = caseNamed('five-value integer column, one sixth value in current');
    const report = ours(c);
    expect(report.features.find((f) => f.feature === 'i5')).toMatchObject({ statistic: 'ks', drifted: false });
    expect(report.datasetDrift.drifted).toBe(false);
    // what the reference alone would have picked
    const detector = new DriftDetector(buildReferenceProfile({ columns: c.reference }));
    expect(detector.plan().i5.method).toBe('chisquare');
  });

  it('a value the reference never saw, in a chi-squared column, gives p = 0 in Evidently and here', () => {
    for (const [name, column] of [
      ['integer column, a value with expected count 0', 'i4'],
      ['category unseen in the reference', 'color'],
    ]) {
      const c = caseNamed(name);
      expect(c.columns[column], name).toMatchObject({ method: 'chisquare', value: 0, drifted: true });
      expect(ours(c).features.find((f) => f.feature === column), name).toMatchObject({ statistic: 'chisquare', value: 0, drifted: true });
    }
  });
});

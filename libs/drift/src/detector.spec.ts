import { buildReferenceProfile, defaultMethod, DriftDetector, ksTwoSample, profileColumn, sortedCopy, type Scalar } from './index';
import { normal, rng } from '../../../test/support/random';

function rows(n: number, seed: number, shift = 0): Record<string, Scalar>[] {
  const r = rng(seed);
  const z = normal(r);
  return Array.from({ length: n }, () => ({
    x: z() + shift,
    y: z() * 2,
    color: r() < (shift ? 0.7 : 0.3) ? 'red' : r() < 0.5 ? 'green' : 'blue',
    flag: r() < 0.5,
  }));
}

describe('defaultMethod (Evidently defaults)', () => {
  const numeric = (n: number, distinct: number) => profileColumn(Array.from({ length: n }, (_, i) => i % distinct));
  it.each([
    ['numeric, small reference, > 5 values', numeric(1000, 100), 'ks'],
    ['numeric with 5 values, small reference', numeric(1000, 5), 'chisquare'],
    ['numeric with 2 values, small reference', numeric(1000, 2), 'z'],
    ['categorical, 3 values', profileColumn(['a', 'b', 'c', 'a']), 'chisquare'],
    ['boolean', profileColumn([true, false, true]), 'z'],
    ['numeric, large reference', numeric(1001, 100), 'wasserstein'],
    ['categorical, large reference', profileColumn(Array.from({ length: 5000 }, (_, i) => `c${i % 7}`)), 'jensenshannon'],
  ])('%s → %s', (_name, profile, method) => {
    expect(defaultMethod(profile)).toBe(method);
  });

  it('picks from the distinct values of reference and window together', () => {
    const five = numeric(1000, 5);
    expect(defaultMethod(five, new Map([['0', 3], ['4', 1]]))).toBe('chisquare');
    expect(defaultMethod(five, new Map([['0', 3], ['7', 1]]))).toBe('ks');
    expect(defaultMethod(numeric(2000, 5), new Map([['7', 1]]))).toBe('wasserstein');
    expect(defaultMethod(numeric(1000, 2), new Map([['9', 1]]))).toBe('chisquare');
    expect(defaultMethod(profileColumn(['a', 'a']), new Map([['b', 1]]))).toBe('z');
  });
});

describe('DriftDetector', () => {
  const reference = buildReferenceProfile({ rows: rows(1000, 1) });

  it('returns a report only when the tumbling window is full, then starts over', () => {
    const detector = new DriftDetector(reference, { windowSize: 100 });
    const live = rows(250, 2);
    const reports = live.map((row) => detector.add(row)).filter(Boolean);
    expect(reports).toHaveLength(2);
    expect(detector.pending).toBe(50);
    expect(reports[0]!.rows).toBe(100);
  });

  it('evaluates the window exactly: KS on the window equals KS on the same rows', () => {
    const detector = new DriftDetector(reference, { windowSize: 300 });
    const live = rows(300, 3, 0.4);
    let report;
    for (const row of live) report = detector.add(row) ?? report;
    const x = report!.features.find((f) => f.feature === 'x')!;
    const direct = ksTwoSample(reference.features.x.kind === 'numeric' ? reference.features.x.sorted : [], sortedCopy(live.map((r) => r.x as number)));
    expect(x).toMatchObject({ statistic: 'ks', exact: true, drifted: true });
    expect(x.value).toBe(direct.pValue);
  });

  it('flags the shifted features and dataset drift; no shift flags nothing', () => {
    const detector = new DriftDetector(reference, { windowSize: 500 });
    let calm;
    for (const row of rows(500, 4)) calm = detector.add(row) ?? calm;
    expect(calm!.features.filter((f) => f.drifted)).toEqual([]);
    expect(calm!.datasetDrift.drifted).toBe(false);
    let shifted;
    for (const row of rows(500, 5, 1)) shifted = detector.add(row) ?? shifted;
    expect(shifted!.features.filter((f) => f.drifted).map((f) => f.feature).sort()).toEqual(['color', 'x']);
    expect(shifted!.datasetDrift).toEqual({ share: 0.5, threshold: 0.5, drifted: true });
  });

  it('uses distances for a large reference, and per-feature overrides (PSI, threshold, ignore)', () => {
    const large = buildReferenceProfile({ rows: rows(5000, 6) });
    const detector = new DriftDetector(large, {
      windowSize: 500,
      overrides: { y: { method: 'psi' }, flag: { ignore: true }, x: { threshold: 0.2 } },
    });
    expect(detector.plan()).toEqual({
      x: { method: 'wasserstein', threshold: 0.2 },
      y: { method: 'psi', threshold: 0.1 },
      color: { method: 'jensenshannon', threshold: 0.1 },
    });
    let report;
    for (const row of rows(500, 7, 1)) report = detector.add(row) ?? report;
    const x = report!.features.find((f) => f.feature === 'x')!;
    expect(x.value).toBeGreaterThan(0.8); // one std shift ≈ 1.0 normalised Wasserstein
    expect(x.drifted).toBe(true);
  });

  it('rejects overrides that do not fit the column', () => {
    expect(() => new DriftDetector(reference, { overrides: { color: { method: 'ks' } } })).toThrow(/numeric/);
    expect(() => new DriftDetector(reference, { overrides: { nope: { method: 'ks' } } })).toThrow(/unknown feature/);
  });

  it('keeps a bounded reservoir when the window is larger than the sample capacity (approximate)', () => {
    const detector = new DriftDetector(reference, { windowSize: 400, sampleCapacity: 100, random: rng(9) });
    let report;
    for (const row of rows(400, 8)) report = detector.add(row) ?? report;
    expect(report!.features.find((f) => f.feature === 'x')).toMatchObject({ exact: false });
    expect(report!.features.find((f) => f.feature === 'color')).toMatchObject({ exact: true });
  });

  it('builds the same profile from rows and from column arrays', () => {
    const data = rows(50, 10);
    const columns = { x: data.map((r) => r.x), y: data.map((r) => r.y), color: data.map((r) => r.color), flag: data.map((r) => r.flag) };
    expect(buildReferenceProfile({ columns })).toEqual(buildReferenceProfile({ rows: data }));
  });
});

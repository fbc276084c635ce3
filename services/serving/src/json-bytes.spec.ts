import { JsonBytes } from './json-bytes';

const keys = (n: number) => Array.from({ length: n }, (_, i) => Buffer.from(`,"f${i}":`));

describe('JsonBytes', () => {
  it('grows past its first buffer and hands out exactly what was written', () => {
    const out = new JsonBytes(16);
    const values = Float32Array.from({ length: 5_000 }, (_, i) => i / 7);
    out.ascii('{');
    expect(out.keyedFloat32s(keys(values.length), values, 0, values.length, true)).toBe(true);
    out.text(',"name":"café"}');
    const parsed = JSON.parse(out.take().toString('utf8')) as Record<string, number | string>;
    expect(Object.keys(parsed)).toHaveLength(5_001);
    expect(parsed.name).toBe('café');
    for (let i = 0; i < values.length; i++) expect(Math.fround(parsed[`f${i}`] as number)).toBe(values[i]);
  });

  it('starts over after take() and discard()', () => {
    const out = new JsonBytes(8);
    out.ascii('[1]');
    expect(out.take().toString()).toBe('[1]');
    out.ascii('[2,');
    out.discard();
    out.ascii('[3]');
    expect(out.take().toString()).toBe('[3]');
  });

  it('says false at a NaN or an Infinity, starting at the given element', () => {
    const out = new JsonBytes();
    const data = Float32Array.from([1, 2, Number.NaN, 4, Number.POSITIVE_INFINITY]);
    expect(out.keyedFloat32s(keys(2), data, 0, 2, true)).toBe(true);
    expect(out.take().toString()).toBe('"f0":1,"f1":2');
    expect(out.keyedFloat32s(keys(2), data, 2, 2, false)).toBe(false);
    out.discard();
    expect(out.keyedFloat32s(keys(1), data, 3, 1, false)).toBe(true);
    expect(out.take().toString()).toBe(',"f0":4');
    expect(out.keyedFloat32s(keys(1), data, 4, 1, false)).toBe(false);
  });
});

import { decodeHoldoutNpy, encodeHoldoutNpy } from './holdout-npy';

describe('holdout rows as NPY (float32 [rows, features])', () => {
  it('round-trips rows; the header is NPY 1.0 <f4 C order, padded so the data starts on a 64-byte boundary', () => {
    const bytes = encodeHoldoutNpy([[1, 2.5, -3], [0.1, 0, 7]], 3);
    const headerLength = bytes.readUInt16LE(8);
    expect((10 + headerLength) % 64).toBe(0);
    expect(bytes.subarray(10, 10 + headerLength).toString('latin1')).toMatch(/^\{'descr': '<f4', 'fortran_order': False, 'shape': \(2, 3\), \} *\n$/);
    const decoded = decodeHoldoutNpy(bytes);
    expect(decoded).toMatchObject({ rows: 2, features: 3 });
    expect(Array.from(decoded.data)).toEqual(Array.from(Float32Array.from([1, 2.5, -3, 0.1, 0, 7])));
  });

  it('refuses what it cannot read, saying what it expected', () => {
    expect(() => encodeHoldoutNpy([[1, 2]], 3)).toThrow('holdout row 0 has 2 values; expected 3');
    expect(() => decodeHoldoutNpy(Buffer.from('not numpy at all'))).toThrow(/not an NPY file/);
    const float64 = Buffer.from(encodeHoldoutNpy([[1]], 1).toString('latin1').replace("'<f4'", "'<f8'"), 'latin1');
    expect(() => decodeHoldoutNpy(float64)).toThrow("NPY dtype <f8: expected '<f4' (little-endian float32)");
    expect(() => decodeHoldoutNpy(encodeHoldoutNpy([[1, 2]], 2).subarray(0, -1))).toThrow('NPY data has 7 bytes; shape (1, 2) needs 8');
  });
});

/** mulberry32: a small, fast, seedable PRNG; the same seed gives the same sequence everywhere. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Row indices split into train and held-out parts by a seeded Fisher-Yates shuffle. */
export function holdoutSplit(rows: number, testFraction: number, seed: number): { train: number[]; test: number[] } {
  const order = Array.from({ length: rows }, (_, i) => i);
  const random = seededRandom(seed);
  for (let i = rows - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const testRows = rows < 2 || testFraction <= 0 ? 0 : Math.min(rows - 1, Math.max(1, Math.round(rows * testFraction)));
  return { test: order.slice(0, testRows).sort((a, b) => a - b), train: order.slice(testRows).sort((a, b) => a - b) };
}

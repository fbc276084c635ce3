import type { OnlineStore } from './online-store';

/**
 * The contract every online store adapter keeps; run against the in-memory store (unit
 * tier) and Redis (integration tier). `make` returns a fresh, empty store.
 */
export function onlineStoreContract(name: string, make: () => Promise<OnlineStore>) {
  describe(`online store contract: ${name}`, () => {
    let store: OnlineStore;
    beforeEach(async () => {
      store = await make();
    });
    afterEach(async () => {
      await store.close();
    });

    it('returns the latest values per entity, in request order, undefined for unknown entities', async () => {
      expect(await store.put('v', 'u1', { eventTimeMs: 1_000, values: { a: 1, s: 'x', b: true, n: null } })).toBe(true);
      expect(await store.put('v', 'u2', { eventTimeMs: 2_000, values: { a: 2, s: 'y', b: false, n: null } })).toBe(true);
      expect(await store.get('v', ['u2', 'missing', 'u1'])).toEqual([
        { eventTimeMs: 2_000, values: { a: 2, s: 'y', b: false, n: null } },
        undefined,
        { eventTimeMs: 1_000, values: { a: 1, s: 'x', b: true, n: null } },
      ]);
      expect(await store.get('v', [])).toEqual([]);
    });

    it('moves forward in event time only: a late (older) event does not replace a newer value', async () => {
      await store.put('v', 'u1', { eventTimeMs: 5_000, values: { a: 5 } });
      expect(await store.put('v', 'u1', { eventTimeMs: 4_000, values: { a: 4 } })).toBe(false);
      expect((await store.get('v', ['u1']))[0]).toEqual({ eventTimeMs: 5_000, values: { a: 5 } });
      expect(await store.put('v', 'u1', { eventTimeMs: 6_000, values: { a: 6 } })).toBe(true);
      expect(await store.put('v', 'u1', { eventTimeMs: 6_000, values: { a: 7 } })).toBe(true);
      expect((await store.get('v', ['u1']))[0]).toEqual({ eventTimeMs: 6_000, values: { a: 7 } });
    });

    it('keeps views apart', async () => {
      await store.put('v1', 'u1', { eventTimeMs: 1, values: { a: 1 } });
      await store.put('v2', 'u1', { eventTimeMs: 2, values: { a: 2 } });
      expect((await store.get('v1', ['u1']))[0]?.values).toEqual({ a: 1 });
      expect((await store.get('v2', ['u1']))[0]?.values).toEqual({ a: 2 });
      expect(await store.get('v3', ['u1'])).toEqual([undefined]);
    });

    it('answers many entities in one call', async () => {
      const keys = Array.from({ length: 300 }, (_, i) => `e${i}`);
      await Promise.all(keys.map((k, i) => store.put('v', k, { eventTimeMs: i, values: { i } })));
      const rows = await store.get('v', keys);
      expect(rows.map((r) => r?.values.i)).toEqual(keys.map((_, i) => i));
    });
  });
}

import { dataContractSchema } from '../contracts/data-contract';
import { compileValidator } from './record-validator';

const contract = dataContractSchema.parse({
  fields: {
    id: { type: 'string' },
    user: { type: 'string' },
    amount: { type: 'number', min: 0, max: 1000 },
    items: { type: 'integer' },
    country: { type: 'string', enum: ['DE', 'FR'] },
    premium: { type: 'boolean', required: false },
    ts: { type: 'timestamp' },
  },
  idField: 'id',
  timestampField: 'ts',
  entityKeyField: 'user',
});
const validate = compileValidator(contract);
const good = { id: 'r1', user: 'u1', amount: 12.5, items: 2, country: 'DE', ts: '2026-01-02T03:04:05+01:00' };

describe('record validator', () => {
  it('accepts a conforming record and derives id, entity key and a normalised event time', () => {
    const result = validate(good);
    expect(result).toEqual({
      ok: true,
      record: { ...good, premium: null, ts: '2026-01-02T02:04:05.000Z' },
      recordId: 'r1',
      entityKey: 'u1',
      eventTime: '2026-01-02T02:04:05.000Z',
    });
  });

  it('accepts epoch milliseconds as a timestamp', () => {
    const result = validate({ ...good, ts: 0 });
    expect(result.ok && result.eventTime).toBe('1970-01-01T00:00:00.000Z');
  });

  it('names every offending field with what was expected', () => {
    const result = validate({ id: 'r2', user: 7, amount: -1, items: 1.5, country: 'US', ts: 'yesterday', extra: 1 });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const byField = Object.fromEntries(result.reasons.map((r) => [r.field, r.message]));
    expect(Object.keys(byField).sort()).toEqual(['amount', 'country', 'extra', 'items', 'ts', 'user']);
    expect(byField.amount).toMatch(/>=0/);
    expect(byField.country).toMatch(/"DE", "FR"/);
    expect(byField.user).toMatch(/string/);
    expect(byField.extra).toMatch(/not declared/);
    expect(result.recordId).toBe('r2');
  });

  it('reports a missing required field', () => {
    const { country: _omit, ...rest } = good;
    const result = validate(rest);
    expect(result.ok ? [] : result.reasons.map((r) => r.field)).toEqual(['country']);
  });

  it('rejects values that are not objects', () => {
    expect(validate('a string').ok).toBe(false);
    expect(validate(null).ok).toBe(false);
  });

  it('lets declared extra fields through only when the contract allows them', () => {
    const loose = compileValidator(dataContractSchema.parse({ ...contract, allowExtraFields: true }));
    const result = loose({ ...good, note: 'kept' });
    expect(result.ok && result.record.note).toBe('kept');
  });

  it('rejects a contract whose key fields are not declared', () => {
    const parsed = dataContractSchema.safeParse({ fields: { a: { type: 'number' } }, idField: 'b', timestampField: 'a' });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => i.path.join('.')).sort()).toEqual(['idField', 'timestampField']);
  });
});

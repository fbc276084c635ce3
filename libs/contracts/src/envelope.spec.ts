import {
  causedBy,
  ContractViolation,
  createEvent,
  decodeEvent,
  dlqTopic,
  parseEvent,
  rawTopic,
  sourceOfRawTopic,
} from './index';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function registered(overrides: Record<string, unknown> = {}) {
  return createEvent('model.registered', {
    source: 'registry',
    subject: 'churn',
    data: { model: 'churn', version: 3, artifactHash: 'sha256:abc', ...overrides } as never,
  });
}

function violationOf(fn: () => unknown): ContractViolation {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ContractViolation);
    return error as ContractViolation;
  }
  throw new Error('expected a ContractViolation, but nothing was thrown');
}

describe('createEvent', () => {
  it('fills a uuid id, the current time and a correlation id equal to the id', () => {
    const before = Date.now();
    const event = registered();
    const after = Date.now();

    expect(event.id).toMatch(UUID);
    expect(event.type).toBe('model.registered');
    expect(event.source).toBe('registry');
    expect(event.subject).toBe('churn');
    expect(event.correlationId).toBe(event.id);
    const time = Date.parse(event.time);
    expect(new Date(time).toISOString()).toBe(event.time);
    expect(time).toBeGreaterThanOrEqual(before);
    expect(time).toBeLessThanOrEqual(after);
    expect(event.data).toEqual({ model: 'churn', version: 3, artifactHash: 'sha256:abc' });
  });

  it('gives every event its own id', () => {
    const ids = new Set(Array.from({ length: 50 }, () => registered().id));
    expect(ids.size).toBe(50);
  });

  it('keeps an explicit id, time and correlation id', () => {
    const id = '6f0e8c1e-4b8a-4c4e-9b8e-1f2a3b4c5d6e';
    const event = createEvent('retrain.requested', {
      id,
      time: new Date('2024-05-01T10:00:00.000Z'),
      correlationId: 'loop-1',
      source: 'monitoring',
      subject: 'churn',
      data: { model: 'churn', reason: 'drift' },
    });
    expect(event.id).toBe(id);
    expect(event.time).toBe('2024-05-01T10:00:00.000Z');
    expect(event.correlationId).toBe('loop-1');
  });

  it('applies payload defaults', () => {
    const event = createEvent('deployment.requested', {
      source: 'registry',
      subject: 'churn',
      data: { model: 'churn', version: 1, artifactUri: 's3://a/b', strategy: 'canary' },
    });
    expect(event.data.canaryShare).toBe(0.1);
  });

  it('rejects a payload that breaks the contract, naming data.<field>', () => {
    const violation = violationOf(() => registered({ version: -1 }));
    expect(violation.issues.map((i) => i.field)).toEqual(['data.version']);
    expect(violation.issues[0].message).not.toBe('');
    expect(violation.message).toContain('data.version');
  });

  it('lists every offending payload field', () => {
    const violation = violationOf(() => registered({ version: 0, model: '', artifactHash: undefined }));
    expect(violation.issues.map((i) => i.field).sort()).toEqual(['data.artifactHash', 'data.model', 'data.version']);
  });

  it('names nested payload fields by their dotted path', () => {
    const violation = violationOf(() =>
      createEvent('data.rejected', {
        source: 'ingestion',
        subject: 'orders',
        data: { source: 'orders', reasons: [{ field: 'amount' } as never], record: {} },
      }),
    );
    expect(violation.issues.map((i) => i.field)).toEqual(['data.reasons.0.message']);
  });
});

describe('causedBy', () => {
  it('keeps the correlation id of the cause but gets its own id', () => {
    const cause = registered();
    const followUp = causedBy(cause, 'model.promoted', {
      source: 'registry',
      subject: 'churn',
      data: { model: 'churn', version: 3, alias: 'champion' },
    });
    expect(followUp.correlationId).toBe(cause.correlationId);
    expect(followUp.id).toMatch(UUID);
    expect(followUp.id).not.toBe(cause.id);

    const third = causedBy(followUp, 'retrain.requested', {
      source: 'monitoring',
      subject: 'churn',
      data: { model: 'churn', reason: 'drift' },
    });
    expect(third.correlationId).toBe(cause.id);
  });

  it('keeps an inherited correlation id that is not the cause id', () => {
    const cause = createEvent('retrain.requested', {
      source: 'monitoring',
      subject: 'churn',
      correlationId: 'loop-42',
      data: { model: 'churn', reason: 'drift' },
    });
    const followUp = causedBy(cause, 'training.started', {
      source: 'training',
      subject: 'churn',
      data: { jobId: 'j1', model: 'churn', trainer: 'sklearn' },
    });
    expect(followUp.correlationId).toBe('loop-42');
  });
});

describe('parseEvent / decodeEvent', () => {
  it('round-trips a created event through JSON', () => {
    const event = registered();
    expect(parseEvent(JSON.parse(JSON.stringify(event)))).toEqual(event);
    expect(decodeEvent(Buffer.from(JSON.stringify(event)))).toEqual(event);
    expect(decodeEvent(JSON.stringify(event))).toEqual(event);
  });

  it('round-trips an event whose payload has nested objects and defaults', () => {
    const event = createEvent('training.completed', {
      source: 'training',
      subject: 'churn',
      data: {
        jobId: 'j1',
        model: 'churn',
        runId: 'r1',
        artifactUri: 'file:///m.onnx',
        metrics: { auc: 0.91 },
        signature: { inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 4] }], outputs: [] },
      },
    });
    expect(event.data.params).toEqual({});
    expect(parseEvent(JSON.parse(JSON.stringify(event)))).toEqual(event);
  });

  it('rejects a wrong payload field of an incoming event, naming data.<field>', () => {
    const wire = { ...JSON.parse(JSON.stringify(registered())), data: { model: 'churn', version: -2, artifactHash: 'x' } };
    const violation = violationOf(() => parseEvent(wire));
    expect(violation.issues.map((i) => i.field)).toEqual(['data.version']);
  });

  it('accepts a canary verdict and names a verdict that is neither promote nor rollback', () => {
    const verdict = createEvent('canary.evaluated', {
      source: 'monitoring',
      subject: 'churn',
      data: { model: 'churn', version: 3, championVersion: 2, verdict: 'rollback', reason: 'accuracy 0.61 < 0.80 - 0.05', predictions: 120, labels: 60, metric: 'accuracy', canaryValue: 0.61, championValue: 0.8 },
    });
    expect(parseEvent(JSON.parse(JSON.stringify(verdict)))).toEqual(verdict);
    const wire = { ...JSON.parse(JSON.stringify(verdict)), data: { ...verdict.data, verdict: 'maybe' } };
    expect(violationOf(() => parseEvent(wire)).issues.map((i) => i.field)).toEqual(['data.verdict']);
  });

  it('rejects an unknown event type, naming type', () => {
    const wire = { ...JSON.parse(JSON.stringify(registered())), type: 'model.exploded' };
    const violation = violationOf(() => parseEvent(wire));
    expect(violation.issues.map((i) => i.field)).toContain('type');
  });

  it('names every missing or malformed envelope field', () => {
    const { id: _id, source: _source, ...rest } = JSON.parse(JSON.stringify(registered()));
    const violation = violationOf(() => parseEvent({ ...rest, time: 'yesterday' }));
    expect(violation.issues.map((i) => i.field).sort()).toEqual(['id', 'source', 'time']);
  });

  it('rejects a non-object', () => {
    const violation = violationOf(() => parseEvent(42));
    expect(violation.issues.length).toBeGreaterThan(0);
    expect(violation.message).toMatch(/^invalid event: /);
  });

  it('gives a clear message for bytes that are not JSON', () => {
    const violation = violationOf(() => decodeEvent(Buffer.from('{not json')));
    expect(violation.issues).toHaveLength(1);
    expect(violation.issues[0].field).toBe('');
    expect(violation.issues[0].message).toMatch(/^not valid JSON \(.+\)$/);
    expect(violation.message).toContain('(root): not valid JSON');
  });
});

describe('topics', () => {
  it('puts raw records of a source on raw.<source>', () => {
    expect(rawTopic('orders')).toBe('raw.orders');
    expect(rawTopic('Sensor_01-eu')).toBe('raw.Sensor_01-eu');
    expect(sourceOfRawTopic(rawTopic('orders'))).toBe('orders');
    expect(sourceOfRawTopic('model.registered')).toBeUndefined();
  });

  it.each(['', 'orders.eu', 'a b', '-orders', '_orders', 'ord/ers', 'x'.repeat(101), 'orders\n'])(
    'rejects the source name %j',
    (source) => {
      expect(() => rawTopic(source)).toThrow(/source name .* must match/s);
    },
  );

  it('accepts a 100-character source name', () => {
    expect(rawTopic('x'.repeat(100))).toBe(`raw.${'x'.repeat(100)}`);
  });

  it('appends .dlq for the dead-letter topic', () => {
    expect(dlqTopic('model.registered')).toBe('model.registered.dlq');
    expect(dlqTopic(rawTopic('orders'))).toBe('raw.orders.dlq');
  });
});

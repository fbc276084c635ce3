import { acceptJsonEvent } from './json-event-shortcut';
import { ContractViolation, createEvent, decodeEvent, encodePredictionTensors, parseEvent } from './index';

const prediction = createEvent('prediction.logged', {
  source: 'serving',
  subject: 'churn',
  data: {
    predictionId: 'p-1',
    model: 'churn',
    version: 3,
    inputs: { age: 41, plan: 'pro', active: true, region: null, '7': 0.5 },
    outputs: { label: 1, probabilities: [0.25, 0.75], class: 'yes' },
    latencyMs: 1.5,
    requestKey: 'r-1',
  },
});

/** A v2 event: two rows, one FP32 [2,2] input, a BYTES input, an INT64 output; row 1 sampled. */
const tensors = createEvent('prediction.logged', {
  source: 'serving',
  subject: 'churn',
  data: encodePredictionTensors({
    model: 'churn',
    version: 3,
    requestKey: 'r-1',
    latencyMs: 1.5,
    predictionIds: ['r-1:1'],
    rows: [1],
    inputs: [
      { name: 'x', datatype: 'FP32', shape: [2, 2], data: Float32Array.from([1, 2, 3, 4]) },
      { name: 's', datatype: 'BYTES', shape: [2], data: ['a', 'bc'] },
    ],
    outputs: [{ name: 'label', datatype: 'INT64', shape: [2], data: BigInt64Array.from([0n, 1n]) }],
  }),
});

/** The same v2 event as a shadow's answer. */
const shadow = createEvent('prediction.logged', { source: 'serving', subject: 'churn', data: { ...tensors.data, shadow: true } as typeof tensors.data });

/** The same v2 event with the model's feature names on its FP32 input. */
const named = JSON.parse(JSON.stringify(tensors)) as typeof tensors & { data: { inputs: { featureNames?: string[] }[] } };
named.data.inputs[0].featureNames = ['age', 'tenure'];

const label = createEvent('label.observed', {
  source: 'labels',
  subject: 'churn',
  data: { predictionId: 'p-1', model: 'churn', label: 1 },
});

type Verdict = { event: string } | { error: string };

/** What zod alone makes of the value: the event as JSON (key order included), or the error. */
function zodVerdict(value: unknown): Verdict {
  try {
    return { event: JSON.stringify(parseEvent(value)) };
  } catch (error) {
    expect(error).toBeInstanceOf(ContractViolation);
    return { error: (error as Error).message };
  }
}

function decodeVerdict(text: string): Verdict {
  try {
    return { event: JSON.stringify(decodeEvent(Buffer.from(text))) };
  } catch (error) {
    expect(error).toBeInstanceOf(ContractViolation);
    return { error: (error as Error).message };
  }
}

const REMOVE = Symbol('remove');
const CANDIDATES: unknown[] = [
  REMOVE,
  null,
  '',
  'x',
  'x'.repeat(200),
  'x'.repeat(201),
  0,
  -0.5,
  2.5,
  3,
  2 ** 53,
  1e300,
  true,
  [],
  [1, 2],
  [1, 'a'],
  {},
  { a: 1 },
  { a: [1, 2] },
  { a: { b: 1 } },
  '6f0e8c1e-4b8a-4c4e-9b8e-1f2a3b4c5d6e',
  '6F0E8C1E-4B8A-4C4E-9B8E-1F2A3B4C5D6E',
  '6f0e8c1e-4b8a-9c4e-9b8e-1f2a3b4c5d6e',
  '00000000-0000-0000-0000-000000000000',
  '2024-05-01T10:00:00Z',
  '2024-05-01T10:00:00.123456+02:00',
  '2024-02-29T23:59:59-11:30',
  '2023-02-29T10:00:00Z',
  '2024-05-01T10:00Z',
  '2024-05-01 10:00:00Z',
  '2024-05-01T10:00:00',
  'label.observed',
  'model.registered',
  2,
  1,
  'FP32',
  'BYTES',
  'AAAAAA==',
  'AAAAAAAAAAA=',
  'AAAAAAAAAAAAAAAAAAAAAA==',
  '!!!!',
];

/** A copy of `base` (as JSON) with the value at `path` replaced, or removed. */
function mutate(base: unknown, path: (string | number)[], candidate: unknown): string {
  const copy = JSON.parse(JSON.stringify(base));
  let target = copy;
  for (const step of path.slice(0, -1)) target = target[step];
  const last = path[path.length - 1];
  if (candidate === REMOVE) {
    if (Array.isArray(target)) target.splice(Number(last), 1);
    else delete target[last];
  } else target[last] = candidate;
  return JSON.stringify(copy);
}

const PREDICTION_PATHS: (string | number)[][] = [
  ['id'],
  ['type'],
  ['time'],
  ['source'],
  ['subject'],
  ['correlationId'],
  ['data'],
  ['undeclared'],
  ['data', 'predictionId'],
  ['data', 'model'],
  ['data', 'version'],
  ['data', 'inputs'],
  ['data', 'inputs', 'age'],
  ['data', 'inputs', 'new'],
  ['data', 'outputs'],
  ['data', 'outputs', 'label'],
  ['data', 'outputs', 'probabilities'],
  ['data', 'outputs', 'probabilities', 1],
  ['data', 'latencyMs'],
  ['data', 'requestKey'],
  ['data', 'undeclared'],
];

const TENSOR_PATHS: (string | number)[][] = [
  ['data'],
  ['data', 'schemaVersion'],
  ['data', 'model'],
  ['data', 'version'],
  ['data', 'requestKey'],
  ['data', 'latencyMs'],
  ['data', 'predictionIds'],
  ['data', 'predictionIds', 0],
  ['data', 'predictionIds', 1],
  ['data', 'rows'],
  ['data', 'rows', 0],
  ['data', 'rows', 1],
  ['data', 'inputs'],
  ['data', 'inputs', 0],
  ['data', 'inputs', 1],
  ['data', 'inputs', 0, 'name'],
  ['data', 'inputs', 0, 'datatype'],
  ['data', 'inputs', 0, 'shape'],
  ['data', 'inputs', 0, 'shape', 0],
  ['data', 'inputs', 0, 'shape', 1],
  ['data', 'inputs', 0, 'data'],
  ['data', 'inputs', 1, 'data'],
  ['data', 'inputs', 1, 'undeclared'],
  ['data', 'outputs'],
  ['data', 'outputs', 0, 'name'],
  ['data', 'outputs', 0, 'data'],
  ['data', 'undeclared'],
];

const NAMED_PATHS: (string | number)[][] = [
  ['data', 'inputs', 0, 'featureNames'],
  ['data', 'inputs', 0, 'featureNames', 0],
  ['data', 'inputs', 0, 'featureNames', 1],
  ['data', 'inputs', 0, 'featureNames', 2],
  ['data', 'inputs', 1, 'featureNames'],
];

const LABEL_PATHS: (string | number)[][] = [['type'], ['data'], ['undeclared'], ['data', 'predictionId'], ['data', 'model'], ['data', 'label'], ['data', 'undeclared']];

/** Texts JSON.stringify cannot produce: an own "__proto__" key, fields in another order. */
const HANDWRITTEN: string[] = [
  JSON.stringify(prediction).replace('"data":{', '"data":{"__proto__":{"x":1},'),
  JSON.stringify(prediction).replace('"inputs":{', '"inputs":{"__proto__":1,'),
  JSON.stringify(prediction).replace('"outputs":{', '"outputs":{"__proto__":[1],'),
  JSON.stringify(prediction).replace('{"id"', '{"__proto__":null,"id"'),
  JSON.stringify(label).replace('"data":{', '"data":{"__proto__":"x",'),
  JSON.stringify({ data: prediction.data, correlationId: prediction.correlationId, subject: 'churn', source: 'serving', time: prediction.time, type: prediction.type, id: prediction.id }),
  JSON.stringify({ ...prediction, data: { requestKey: 'k', latencyMs: 2, outputs: { y: 'a' }, inputs: {}, version: 1, model: 'm', predictionId: 'q' } }),
  JSON.stringify({ ...label, data: { label: 'no', predictionId: 'p-2' } }),
  JSON.stringify({ ...label, data: { label: 'no', model: 'm', predictionId: 'p-2' } }),
];

const cases: string[] = [
  JSON.stringify(prediction),
  JSON.stringify(label),
  ...PREDICTION_PATHS.flatMap((path) => CANDIDATES.map((c) => mutate(prediction, path, c))),
  JSON.stringify(tensors),
  ...TENSOR_PATHS.flatMap((path) => CANDIDATES.map((c) => mutate(tensors, path, c))),
  JSON.stringify(shadow),
  ...[['data', 'shadow'], ['data', 'requestKey']].flatMap((path) => CANDIDATES.map((c) => mutate(shadow, path, c))),
  JSON.stringify(named),
  ...NAMED_PATHS.flatMap((path) => CANDIDATES.map((c) => mutate(named, path, c))),
  mutate(named, ['data', 'inputs', 0, 'featureNames'], ['age']),
  mutate(named, ['data', 'inputs', 0, 'featureNames'], ['age', 'age']),
  mutate(named, ['data', 'inputs', 1, 'featureNames'], ['s']),
  ...LABEL_PATHS.flatMap((path) => CANDIDATES.map((c) => mutate(label, path, c))),
  ...HANDWRITTEN,
];

describe('acceptJsonEvent (the zod shortcut of decodeEvent)', () => {
  it('takes the shortcut for valid prediction.logged (v1 and v2) and label.observed events, with the result zod gives', () => {
    for (const event of [prediction, tensors, shadow, named, label]) {
      const text = JSON.stringify(event);
      const accepted = acceptJsonEvent(JSON.parse(text));
      expect(accepted).toBeDefined();
      expect(JSON.stringify(accepted)).toBe(JSON.stringify(parseEvent(JSON.parse(text))));
      expect(decodeEvent(text)).toEqual(event);
    }
  });

  it(`accepts only what zod accepts, with zod's exact output, and decodeEvent equals zod on all ${cases.length} cases`, () => {
    let shortcuts = 0;
    let invalid = 0;
    for (const text of cases) {
      const zod = zodVerdict(JSON.parse(text));
      const accepted = acceptJsonEvent(JSON.parse(text));
      if (accepted) {
        shortcuts++;
        expect(zod, text).toEqual({ event: JSON.stringify(accepted) });
      }
      if ('error' in zod) invalid++;
      expect(decodeVerdict(text), text).toEqual(zod);
    }
    // the sweep exercises both the shortcut and zod's rejections
    expect(shortcuts).toBeGreaterThan(50);
    expect(invalid).toBeGreaterThan(200);
  });

  it('leaves an undeclared field to zod, which drops it', () => {
    const text = JSON.stringify({ ...prediction, data: { ...prediction.data, extra: 1 } });
    expect(acceptJsonEvent(JSON.parse(text))).toBeUndefined();
    expect(decodeEvent(text)).toEqual(prediction);
  });

  it('still rejects a malformed prediction through zod, naming the field', () => {
    const text = JSON.stringify({ ...prediction, data: { ...prediction.data, version: 0, inputs: { age: [1] } } });
    expect(() => decodeEvent(text)).toThrow(ContractViolation);
    try {
      decodeEvent(text);
    } catch (error) {
      expect((error as ContractViolation).issues.map((i) => i.field)).toEqual(['data.version', 'data.inputs.age']);
    }
  });

  it('leaves other event types to zod', () => {
    const event = createEvent('model.registered', { source: 'registry', subject: 'churn', data: { model: 'churn', version: 1, artifactHash: 'h' } });
    expect(acceptJsonEvent(JSON.parse(JSON.stringify(event)))).toBeUndefined();
    expect(decodeEvent(JSON.stringify(event))).toEqual(event);
  });
});

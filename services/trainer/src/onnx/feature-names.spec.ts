import * as ort from 'onnxruntime-node';
import { DataType } from './onnx-proto';
import { FEATURE_NAMES_KEY, nameModelFeatures } from './feature-names';
import { GraphBuilder, readModel } from './graph';

/** An identity model as another trainer might write it: inputs of the given shapes, no metadata of ours. */
function model(inputs: Record<string, (number | string)[]>, metadata: Record<string, string> = {}): Uint8Array {
  const g = new GraphBuilder('external', 13);
  for (const [name, shape] of Object.entries(inputs)) g.input(name, DataType.FLOAT, shape).node('Identity', [name], [`${name}_out`]).output(`${name}_out`, DataType.FLOAT, shape);
  return g.encode(metadata, 'written elsewhere');
}

describe('feature names of a model another trainer wrote (TRAINER_COMMAND)', () => {
  it('appends feature_names to a [batch, n] model, every other byte as it was: the same graph, and onnxruntime runs it', async () => {
    const original = model({ x: ['N', 3] }, { producer_note: 'kept' });
    const named = nameModelFeatures(original, ['age', 'tenure', 'plan']);
    expect(named.note).toBe('model.onnx names its input columns age, tenure, plan (ONNX metadata feature_names)');
    const bytes = named.bytes!;
    expect(Buffer.from(bytes.subarray(0, original.length)).equals(Buffer.from(original))).toBe(true);
    const before = readModel(original);
    const after = readModel(bytes);
    expect(after.metadata).toEqual({ producer_note: 'kept', [FEATURE_NAMES_KEY]: '["age","tenure","plan"]' });
    expect({ ...after, metadata: {} }).toEqual({ ...before, metadata: {} });
    const session = await ort.InferenceSession.create(bytes);
    try {
      const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from([1, 2, 3]), [1, 3]) });
      expect(Array.from(out.x_out.data as Float32Array)).toEqual([1, 2, 3]);
    } finally {
      await session.release();
    }
  });

  it('names a model whose column count is dynamic', () => {
    expect(readModel(nameModelFeatures(model({ x: ['N', 'F'] }), ['a', 'b']).bytes!).metadata[FEATURE_NAMES_KEY]).toBe('["a","b"]');
  });

  it('leaves a model that names its features itself, or whose inputs are not one [batch, n] tensor of the features, as it is, saying why', () => {
    const own = nameModelFeatures(model({ x: ['N', 2] }, { [FEATURE_NAMES_KEY]: '["p","q"]' }), ['a', 'b']);
    expect(own).toEqual({ note: 'model.onnx names its features itself (feature_names ["p","q"])' });
    expect(nameModelFeatures(model({ x: ['N', 3] }), ['a', 'b'])).toEqual({
      note: 'model.onnx keeps positional input names: its inputs (x [-1,3]) are not one [batch, 2] tensor of the 2 features',
    });
    expect(nameModelFeatures(model({ a: ['N', 1], b: ['N', 1] }), ['a', 'b']).bytes).toBeUndefined();
    expect(nameModelFeatures(model({ x: ['N', 2, 1] }), ['a', 'b']).bytes).toBeUndefined();
  });
});

import protobuf from 'protobufjs';
import { featureNaming, onnxMetadataProps } from './feature-names';
import type { TensorMetadata } from './model-repository';

const input = (shape: number[], name = 'input'): TensorMetadata => ({ name, datatype: 'FP32', shape });

describe('serving: feature names from a model\'s ONNX metadata', () => {
  it('reads metadata_props from ONNX bytes, skipping the fields before and after them', () => {
    // A ModelProto with ir_version (1), producer_name (2), graph (7, an opaque body) and two metadata_props (14).
    const w = protobuf.Writer.create();
    w.uint32((1 << 3) | 0).int64(8);
    w.uint32((2 << 3) | 2).string('skl2onnx');
    w.uint32((7 << 3) | 2).bytes(Uint8Array.from([0x0a, 0x01, 0x41]));
    for (const [key, value] of [['feature_names', '["a","b"]'], ['author', 'me']]) w.uint32((14 << 3) | 2).fork().uint32(10).string(key).uint32(18).string(value).ldelim();
    expect(onnxMetadataProps(w.finish())).toEqual({ feature_names: '["a","b"]', author: 'me' });
  });

  it('names the columns of a model\'s one [batch, n] input (or one with a dynamic column count)', () => {
    expect(featureNaming({ feature_names: '["age","tenure"]' }, [input([-1, 2])])).toEqual({ names: ['age', 'tenure'], note: 'feature names age, tenure (ONNX metadata feature_names)' });
    expect(featureNaming({ feature_names: '["age","tenure"]' }, [input([-1, -1])]).names).toEqual(['age', 'tenure']);
    // The built-in trainer's key before feature_names.
    expect(featureNaming({ features: '["f0","f1"]' }, [input([-1, 2])]).names).toEqual(['f0', 'f1']);
  });

  it('gives a model without names (registered from outside) none: its rows keep positional keys', () => {
    expect(featureNaming({}, [input([-1, 4])])).toEqual({ note: 'no feature_names in its ONNX metadata: inputs are named by position' });
  });

  it('ignores names that do not fit the model, saying why (a problem to warn about)', () => {
    const cases: [Record<string, string>, TensorMetadata[], string][] = [
      [{ feature_names: 'a,b' }, [input([-1, 2])], 'not JSON'],
      [{ feature_names: '{"a":1}' }, [input([-1, 2])], 'expected a JSON array of non-empty strings'],
      [{ feature_names: '["a",""]' }, [input([-1, 2])], 'expected a JSON array of non-empty strings'],
      [{ feature_names: '["a","a"]' }, [input([-1, 2])], 'a name appears more than once'],
      [{ feature_names: '["a","b","c"]' }, [input([-1, 2])], "3 names for input 'input' of shape [-1,2] (expected [batch, 3])"],
      [{ feature_names: '["a","b"]' }, [input([-1, 2, 1])], "2 names for input 'input' of shape [-1,2,1] (expected [batch, 2])"],
      [{ feature_names: '["a","b"]' }, [input([-1, 1], 'a'), input([-1, 1], 'b')], 'the model has 2 inputs, names fit a model with one'],
    ];
    for (const [metadata, inputs, why] of cases) expect(featureNaming(metadata, inputs)).toEqual({ note: `ONNX metadata feature_names ignored: ${why}`, problem: true });
  });
});

// Writes a ModelInfer request body (protobuf JSON, as ghz reads it) with ROWS rows of 30
// FP32 features in typed `contents.fp32_contents` (not raw_input_contents).
// usage: node make-request.mjs ROWS OUT.json [MODEL_NAME]
import { writeFileSync } from 'node:fs';
const [rows, out, model = 'm'] = [Number(process.argv[2]), process.argv[3], process.argv[4]];
if (!(rows > 0) || !out) throw new Error('usage: node make-request.mjs ROWS OUT.json [MODEL_NAME]');
const features = 30;
const fp32 = Array.from({ length: rows * features }, (_, i) => Math.round(Math.sin(i) * 1000) / 1000);
const request = {
  model_name: model,
  id: `bench-${rows}`,
  inputs: [{ name: 'input', datatype: 'FP32', shape: [rows, features], contents: { fp32_contents: fp32 } }],
};
writeFileSync(out, JSON.stringify(request));

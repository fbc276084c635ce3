import type { BatcherOptions } from './batcher';
import type { LoadedModel, TensorMetadata } from './model-repository';

/** Triton's model configuration (the ModelConfig message, and the JSON of GET /v2/models/{m}/config), the part that applies here. */
export interface ModelConfigView {
  name: string;
  platform: string;
  backend: string;
  /** 0: the model does not batch, and dims include its first dimension. */
  max_batch_size: number;
  input: { name: string; data_type: string; dims: number[] }[];
  output: { name: string; data_type: string; dims: number[] }[];
  dynamic_batching?: { preferred_batch_size: number[]; max_queue_delay_microseconds: number };
}

/** v2 datatype -> Triton's DataType enum name (BYTES is TYPE_STRING there). */
const dataType = (t: TensorMetadata) => (t.datatype === 'BYTES' ? 'TYPE_STRING' : `TYPE_${t.datatype}`);

/**
 * A loaded version's configuration as Triton reports it: a batching model has max_batch_size
 * SERVING_MAX_BATCH, dims without the batch dimension, and dynamic_batching with
 * SERVING_BATCH_DELAY_US; a model with a static first dimension has max_batch_size 0.
 */
export function modelConfigOf(model: LoadedModel, batching: BatcherOptions): ModelConfigView {
  const tensors = (list: TensorMetadata[]) =>
    list.map((t) => ({ name: t.name, data_type: dataType(t), dims: model.batchable ? t.shape.slice(1) : t.shape }));
  return {
    name: model.name,
    platform: model.platform,
    backend: 'onnxruntime',
    max_batch_size: model.batchable ? batching.maxBatch : 0,
    input: tensors(model.inputs),
    output: tensors(model.outputs),
    ...(model.batchable ? { dynamic_batching: { preferred_batch_size: [], max_queue_delay_microseconds: batching.delayUs } } : {}),
  };
}

import * as ort from 'onnxruntime-node';
import { DynamicBatcher, type BatcherOptions, type Feeds } from './batcher';
import { DATATYPES, InferError, v2DatatypeOf, type HostTensor, type V2Datatype } from './tensors';

export interface TensorMetadata {
  name: string;
  datatype: V2Datatype;
  /** -1 for a dynamic dimension */
  shape: number[];
}

export interface LoadedModel {
  name: string;
  version: number;
  path: string;
  platform: 'onnxruntime_onnx';
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
  /** Every input and output has a dynamic first dimension: requests can share a run. */
  batchable: boolean;
  batcher: DynamicBatcher;
  session: ort.InferenceSession;
  /** Runs the rows of one (validated) request, batched with others when the model allows. */
  infer(feeds: Feeds, rows: number): Promise<Feeds>;
}

function tensorMetadata(model: string, list: readonly ort.InferenceSession.ValueMetadata[]): TensorMetadata[] {
  return list.map((m) => {
    if (!m.isTensor) throw new Error(`model '${model}': value '${m.name}' is not a tensor; only tensor inputs/outputs are served`);
    const datatype = v2DatatypeOf(m.type);
    if (!datatype) throw new Error(`model '${model}': tensor '${m.name}' has type ${m.type}, which the v2 protocol cannot carry`);
    // ort reports a symbolic or unknown dimension as a string (its name, or '').
    return { name: m.name, datatype, shape: m.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1)) };
  });
}

function toOrt(t: HostTensor): ort.Tensor {
  return new ort.Tensor(DATATYPES[t.datatype].ort as 'float32', t.data as Float32Array, t.shape);
}

function fromOrt(model: string, name: string, value: ort.OnnxValue): HostTensor {
  const t = value as ort.Tensor;
  const datatype = v2DatatypeOf(t.type);
  if (!datatype) throw new InferError('INTERNAL', `model '${model}': output '${name}' has type ${t.type}, which the v2 protocol cannot carry`);
  return { datatype, shape: [...t.dims], data: t.data as HostTensor['data'] };
}

export class ModelNotFound extends InferError {
  constructor(message: string) {
    super('NOT_FOUND', message);
  }
}

/**
 * The ONNX models this server holds: any number of models, each with any number of
 * versions, each an onnxruntime session with its own dynamic batcher. Swapping a version in
 * is one Map assignment, after the session is loaded and warmed, so requests never see a
 * half-loaded model.
 */
export class ModelRepository {
  private readonly models = new Map<string, Map<number, LoadedModel>>();

  constructor(private readonly batching: BatcherOptions) {}

  async load(name: string, version: number, path: string, options: { warm?: boolean } = {}): Promise<LoadedModel> {
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(path);
    } catch (error) {
      throw new Error(`model '${name}' version ${version}: cannot load ${path}: ${(error as Error).message}`);
    }
    const inputs = tensorMetadata(name, session.inputMetadata);
    const outputs = tensorMetadata(name, session.outputMetadata);
    const batchable = [...inputs, ...outputs].every((t) => t.shape.length > 0 && t.shape[0] === -1);
    const run = async (feeds: Feeds): Promise<Feeds> => {
      const results = await session.run(Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, toOrt(t)])));
      return Object.fromEntries(Object.entries(results).map(([k, v]) => [k, fromOrt(name, k, v)]));
    };
    const batcher = new DynamicBatcher(run, this.batching);
    const model: LoadedModel = {
      name,
      version,
      path,
      platform: 'onnxruntime_onnx',
      inputs,
      outputs,
      batchable,
      batcher,
      session,
      infer: (feeds, rows) => (batchable ? batcher.submit(feeds, rows) : run(feeds)),
    };
    if (options.warm) await this.warm(model);
    let versions = this.models.get(name);
    if (!versions) this.models.set(name, (versions = new Map()));
    const previous = versions.get(version);
    versions.set(version, model);
    // Requests already running on a replaced session finish first.
    if (previous) setTimeout(() => void previous.session.release().catch(() => undefined), 10_000).unref();
    return model;
  }

  /** One run on a zero-filled row, so the first real request does not pay for lazy init. */
  private async warm(model: LoadedModel): Promise<void> {
    const feeds: Feeds = {};
    for (const input of model.inputs) {
      const shape = input.shape.map((d) => (d < 0 ? 1 : d));
      const count = shape.reduce((n, d) => n * d, 1);
      const info = DATATYPES[input.datatype];
      feeds[input.name] = { datatype: input.datatype, shape, data: info.array ? new info.array(count) : Array(count).fill('') };
    }
    await model.session.run(Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, toOrt(t)])));
  }

  /** A model by name and version; the latest version when `version` is empty. */
  resolve(name: string, version = ''): LoadedModel {
    const versions = this.models.get(name);
    if (!versions || versions.size === 0) {
      throw new ModelNotFound(`model '${name}' is not loaded (loaded: ${this.names().join(', ') || 'none'})`);
    }
    if (version === '') return versions.get(Math.max(...versions.keys()))!;
    const model = /^\d+$/.test(version) ? versions.get(Number(version)) : undefined;
    if (!model) {
      throw new ModelNotFound(`model '${name}' has no version '${version}' (loaded versions: ${[...versions.keys()].sort((a, b) => a - b).join(', ')})`);
    }
    return model;
  }

  versions(name: string): number[] {
    return [...(this.models.get(name)?.keys() ?? [])].sort((a, b) => a - b);
  }

  names(): string[] {
    return [...this.models.keys()].sort();
  }

  all(): LoadedModel[] {
    return [...this.models.values()].flatMap((v) => [...v.values()]);
  }

  async close(): Promise<void> {
    const all = this.all();
    this.models.clear();
    await Promise.all(all.map((m) => m.session.release().catch(() => undefined)));
  }
}

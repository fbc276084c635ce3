import type { Feeds } from './batcher';
import type { LoadedModel, TensorMetadata } from './model-repository';
import type { RouteName } from './traffic-split';
import {
  contentsLength,
  formatShape,
  fromContents,
  fromRaw,
  invalid,
  isV2Datatype,
  toContents,
  toRaw,
  type ContentsField,
  type ContentsValues,
  type HostTensor,
} from './tensors';

/** ModelInferRequest as the request decoder gives it (proto-loader's shape; FP32/FP64 contents typed, see typed-contents.ts). */
export interface InferRequestMessage {
  model_name: string;
  model_version: string;
  id: string;
  parameters?: Record<string, unknown>;
  inputs: {
    name: string;
    datatype: string;
    shape: (string | number)[];
    contents?: Partial<Record<ContentsField, ContentsValues>> | null;
    /** This input's raw bytes on their own (REST's binary tensor data extension); not a protobuf field. */
    binary?: Buffer;
  }[];
  outputs?: { name: string }[];
  raw_input_contents?: Buffer[];
}

export interface DecodedRequest {
  feeds: Feeds;
  /** Rows along the batch dimension (1 for a model that does not batch). */
  rows: number;
  /** Output names to return, in order. */
  outputs: string[];
  /** Answer with raw_output_contents (the request used raw_input_contents). */
  raw: boolean;
}

/**
 * Checks a request against the model's signature and decodes its tensors. Every problem is
 * an INVALID_ARGUMENT that names the tensor and says what was expected.
 */
export function decodeRequest(model: LoadedModel, request: InferRequestMessage): DecodedRequest {
  const raw = request.raw_input_contents ?? [];
  const inputs = request.inputs ?? [];
  if (raw.length > 0 && raw.length !== inputs.length) {
    throw invalid(`raw_input_contents has ${raw.length} entries but the request has ${inputs.length} inputs; use raw contents for every input or for none`);
  }
  const { inputsByName, outputNames } = signatureOf(model);
  const feeds: Feeds = {};
  let rows = -1;
  for (let index = 0; index < inputs.length; index++) {
    const input = inputs[index];
    const spec = inputsByName.get(input.name);
    if (!spec) {
      throw invalid(`unexpected input tensor '${input.name}' for ${label(model)}; its inputs are: ${model.inputs.map((i) => `'${i.name}'`).join(', ')}`);
    }
    if (Object.hasOwn(feeds, input.name)) throw invalid(`input tensor '${input.name}' appears more than once`);
    if (!isV2Datatype(input.datatype) || input.datatype !== spec.datatype) {
      throw invalid(`input tensor '${input.name}': datatype '${input.datatype}' does not match ${label(model)}, which expects ${spec.datatype}`);
    }
    const shape = (input.shape ?? []).map(Number);
    const fits =
      shape.length === spec.shape.length &&
      shape.every((d, i) => Number.isSafeInteger(d) && d >= 0 && (spec.shape[i] === -1 || spec.shape[i] === d));
    if (!fits) {
      throw invalid(`input tensor '${input.name}': shape ${formatShape(shape)} does not match ${label(model)}, which expects ${formatShape(spec.shape)} (-1: any size)`);
    }
    let tensor: HostTensor;
    if (input.binary) {
      tensor = fromRaw(input.name, spec.datatype, shape, input.binary, 'binary data');
    } else if (raw.length > 0) {
      const hasContents = Object.values(input.contents ?? {}).some((v) => contentsLength(v) > 0);
      if (hasContents) throw invalid(`input tensor '${input.name}': has both contents and raw_input_contents; send one`);
      tensor = fromRaw(input.name, spec.datatype, shape, raw[index]);
    } else {
      tensor = fromContents(input.name, spec.datatype, shape, input.contents);
    }
    feeds[input.name] = tensor;
    if (model.batchable) {
      if (rows !== -1 && rows !== shape[0]) {
        throw invalid(`inputs disagree on the batch dimension: ${Object.entries(feeds).map(([n, t]) => `'${n}' has ${t.shape[0]}`).join(', ')}`);
      }
      rows = shape[0];
    }
  }
  // Every input decoded is a distinct input of the model, so fewer of them means some are missing.
  if (inputs.length !== model.inputs.length) {
    const missing = model.inputs.filter((i) => !Object.hasOwn(feeds, i.name));
    throw invalid(
      `missing input tensor ${missing.map((m) => `'${m.name}' (${m.datatype} ${formatShape(m.shape)})`).join(', ')} for ${label(model)}`,
    );
  }
  const requested = request.outputs ?? [];
  if (requested.length === 0) return { feeds, rows: rows === -1 ? 1 : rows, outputs: outputNames, raw: raw.length > 0 };
  const names = requested.map((o) => o.name);
  for (const name of names) {
    if (!outputNames.includes(name)) {
      throw invalid(`requested output tensor '${name}' does not exist in ${label(model)}; its outputs are: ${outputNames.map((n) => `'${n}'`).join(', ')}`);
    }
  }
  return { feeds, rows: rows === -1 ? 1 : rows, outputs: names, raw: raw.length > 0 };
}

const label = (model: LoadedModel) => `model '${model.name}' version ${model.version}`;

/** A model's inputs by name and its output names, worked out once per loaded model. */
const signatures = new WeakMap<LoadedModel, { inputsByName: Map<string, TensorMetadata>; outputNames: string[] }>();
function signatureOf(model: LoadedModel) {
  let signature = signatures.get(model);
  if (!signature) {
    signature = { inputsByName: new Map(model.inputs.map((i) => [i.name, i])), outputNames: model.outputs.map((o) => o.name) };
    signatures.set(model, signature);
  }
  return signature;
}

/**
 * The key that keeps a caller on one side of a canary split: the `request_key` string
 * parameter when present, else the request id; undefined (a random draw) when neither is set.
 */
export function requestKey(request: Pick<InferRequestMessage, 'id' | 'parameters'>): string | undefined {
  const param = request.parameters?.request_key as { string_param?: unknown; parameter_choice?: unknown } | undefined;
  if (param && typeof param === 'object' && (param.parameter_choice ?? 'string_param') === 'string_param') {
    if (typeof param.string_param === 'string' && param.string_param !== '') return param.string_param;
  }
  return request.id ? request.id : undefined;
}

/** The ModelInferResponse message for proto-loader. */
export function encodeResponse(
  model: LoadedModel,
  request: InferRequestMessage,
  decoded: DecodedRequest,
  results: Feeds,
  route: RouteName = 'stable',
  predictionIds: string[] = [],
): Record<string, unknown> {
  const outputs = decoded.outputs.map((name) => {
    const t = results[name];
    return {
      name,
      datatype: t.datatype,
      shape: t.shape,
      ...(decoded.raw ? {} : { contents: toContents(t) }),
    };
  });
  return {
    model_name: model.name,
    model_version: String(model.version),
    id: request.id ?? '',
    parameters: {
      model_version: { string_param: String(model.version) },
      route: { string_param: route },
      // Comma-separated, one per row: what label.observed's predictionId names.
      ...(predictionIds.length ? { prediction_ids: { string_param: predictionIds.join(',') } } : {}),
    },
    outputs,
    raw_output_contents: decoded.raw ? decoded.outputs.map((name) => toRaw(results[name])) : [],
  };
}

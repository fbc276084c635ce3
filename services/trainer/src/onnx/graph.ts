import { AttributeType, DataType, ModelProto, V2_DATATYPE } from './onnx-proto';

/** A v2 tensor description (name, KServe datatype, shape with -1 for a dynamic dimension). */
export interface TensorSpec {
  name: string;
  datatype: string;
  shape: number[];
}

export interface Signature {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

type Attribute = Record<string, unknown>;
type Node = { input: string[]; output: string[]; name: string; op_type: string; attribute: Attribute[] };

const attrInt = (name: string, i: number): Attribute => ({ name, type: AttributeType.INT, i });

/** A float32 or int64 initializer; data as little-endian raw_data (what onnx itself writes). */
export function tensor(name: string, dims: number[], values: ArrayLike<number>, dataType: number = DataType.FLOAT): Record<string, unknown> {
  const width = dataType === DataType.INT64 ? 8 : 4;
  const raw = Buffer.alloc(values.length * width);
  for (let i = 0; i < values.length; i++) {
    if (dataType === DataType.INT64) raw.writeBigInt64LE(BigInt(values[i]), i * 8);
    else raw.writeFloatLE(values[i], i * 4);
  }
  return { name, dims, data_type: dataType, raw_data: raw };
}

const valueInfo = (name: string, elemType: number, shape: (number | string)[]) => ({
  name,
  type: {
    tensor_type: {
      elem_type: elemType,
      shape: { dim: shape.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) },
    },
  },
});

/** Builds a single-domain (ai.onnx) graph node by node; `encode()` gives the ModelProto bytes. */
export class GraphBuilder {
  private readonly nodes: Node[] = [];
  private readonly initializers: Record<string, unknown>[] = [];
  private readonly inputs: unknown[] = [];
  private readonly outputs: unknown[] = [];

  constructor(
    private readonly name: string,
    private readonly opset = 13,
  ) {}

  input(name: string, elemType: number, shape: (number | string)[]): this {
    this.inputs.push(valueInfo(name, elemType, shape));
    return this;
  }

  output(name: string, elemType: number, shape: (number | string)[]): this {
    this.outputs.push(valueInfo(name, elemType, shape));
    return this;
  }

  initializer(t: Record<string, unknown>): this {
    this.initializers.push(t);
    return this;
  }

  node(opType: string, input: string[], output: string[], attributes: Record<string, number> = {}): this {
    this.nodes.push({
      input,
      output,
      name: `${opType.toLowerCase()}_${this.nodes.length}`,
      op_type: opType,
      attribute: Object.entries(attributes).map(([k, v]) => attrInt(k, v)),
    });
    return this;
  }

  /** Deterministic: the same graph gives the same bytes (no timestamps, no random ids). */
  encode(metadata: Record<string, string> = {}, docString = ''): Uint8Array {
    const model = {
      ir_version: 8,
      opset_import: [{ domain: '', version: this.opset }],
      producer_name: 'mlops-trainer',
      producer_version: '0.1.0',
      model_version: 1,
      doc_string: docString,
      graph: { node: this.nodes, name: this.name, initializer: this.initializers, input: this.inputs, output: this.outputs },
      metadata_props: Object.keys(metadata)
        .sort()
        .map((key) => ({ key, value: metadata[key] })),
    };
    const error = ModelProto.verify(model);
    if (error) throw new Error(`invalid ONNX model: ${error}`);
    return ModelProto.encode(ModelProto.fromObject(model)).finish();
  }
}

interface DecodedValueInfo {
  name?: string;
  type?: { tensor_type?: { elem_type?: number; shape?: { dim?: { dim_value?: number; dim_param?: string }[] } } };
}

export interface ModelSummary {
  irVersion: number;
  opsets: { domain: string; version: number }[];
  producer: string;
  ops: string[];
  signature: Signature;
  metadata: Record<string, string>;
}

/**
 * Reads the parts of any ONNX model (ours or, say, skl2onnx's) the platform needs: the v2
 * signature of its graph inputs (initializers excluded) and outputs. Throws on bytes that
 * are not a ModelProto with a graph.
 */
export function readModel(bytes: Uint8Array): ModelSummary {
  const model = ModelProto.toObject(ModelProto.decode(bytes), { longs: Number, defaults: false, arrays: true, oneofs: false }) as {
    ir_version?: number;
    producer_name?: string;
    opset_import: { domain?: string; version?: number }[];
    graph?: { node: { op_type?: string }[]; initializer: { name?: string }[]; input: DecodedValueInfo[]; output: DecodedValueInfo[] };
    metadata_props: { key?: string; value?: string }[];
  };
  if (!model.graph) throw new Error('not an ONNX model: no graph');
  if (!model.ir_version) throw new Error('not an ONNX model: no ir_version');
  if (model.graph.output.length === 0) throw new Error('not an ONNX model: the graph has no outputs');
  const initializers = new Set(model.graph.initializer.map((t) => t.name));
  const spec = (v: DecodedValueInfo): TensorSpec => ({
    name: v.name ?? '',
    datatype: V2_DATATYPE[v.type?.tensor_type?.elem_type ?? 0] ?? 'UNKNOWN',
    shape: (v.type?.tensor_type?.shape?.dim ?? []).map((d) => (typeof d.dim_value === 'number' ? d.dim_value : -1)),
  });
  return {
    irVersion: model.ir_version,
    opsets: model.opset_import.map((o) => ({ domain: o.domain ?? '', version: o.version ?? 0 })),
    producer: model.producer_name ?? '',
    ops: model.graph.node.map((n) => n.op_type ?? ''),
    signature: {
      inputs: model.graph.input.filter((v) => !initializers.has(v.name)).map(spec),
      outputs: model.graph.output.map(spec),
    },
    metadata: Object.fromEntries(model.metadata_props.map((p) => [p.key ?? '', p.value ?? ''])),
  };
}

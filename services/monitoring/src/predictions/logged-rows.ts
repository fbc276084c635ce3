import { decodePredictionTensors, PredictionRows, type PayloadOf, type RowOutputs, type RowValue } from '@mlops/contracts';

/**
 * The rows of one prediction.logged event, whichever version: v2 (a request's tensors) read
 * through the contract's row view over its typed arrays, v1 (one row as JSON) as it is.
 */
export interface LoggedRows {
  model: string;
  version: number;
  /** Sampled rows in the event. */
  length: number;
  predictionId(k: number): string;
  /**
   * Row k's inputs keyed as v1 had them (`<tensor>` or `<tensor>[i]`). For v2 this is one
   * object refilled per call: read it before asking for the next row, copy it to keep it.
   */
  inputs(k: number): Record<string, RowValue | null>;
  outputs(k: number): RowOutputs;
}

class TensorRows implements LoggedRows {
  readonly model: string;
  readonly version: number;
  readonly length: number;
  private readonly view: PredictionRows;
  private readonly scratch: Record<string, RowValue | null> = {};

  constructor(view: PredictionRows) {
    this.view = view;
    this.model = view.tensors.model;
    this.version = view.tensors.version;
    this.length = view.length;
  }

  predictionId(k: number): string {
    return this.view.predictionId(k);
  }

  inputs(k: number): Record<string, RowValue | null> {
    return this.view.fillInputs(k, this.scratch);
  }

  outputs(k: number): RowOutputs {
    return this.view.outputs(k);
  }
}

/** A decoded event's rows; a v2 payload whose tensors do not decode throws (a ContractViolation: dead-lettered). */
export function loggedRows(data: PayloadOf<'prediction.logged'>): LoggedRows {
  if (data.schemaVersion === 2) return new TensorRows(new PredictionRows(decodePredictionTensors(data)));
  return {
    model: data.model,
    version: data.version,
    length: 1,
    predictionId: () => data.predictionId,
    inputs: () => data.inputs,
    outputs: () => data.outputs,
  };
}

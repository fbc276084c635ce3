import type { Signature } from '../onnx/onnx-model';

export interface KeyValue {
  key: string;
  value: string;
}

export interface NewVersion {
  name: string;
  bytes: Uint8Array;
  source: string;
  runId?: string;
  datasetId?: string;
  datasetHash?: string;
  codeVersion?: string;
  declared?: Signature;
  metrics?: Record<string, number>;
  tags?: KeyValue[];
  description?: string;
  /** Where MLflow clients download the version from (`mlflow-artifacts:/...`), when it came from tracking. */
  storageLocation?: string;
  /** The MLflow 3 logged model it was registered from. */
  modelId?: string;
  /** The holdout rows in the store (training.completed `holdoutUri`, copied). */
  holdoutUri?: string;
}

/** One value per key (the last wins), values as strings. */
export function dedupe(items: KeyValue[]): KeyValue[] {
  return [...new Map(items.map((t) => [t.key, { key: t.key, value: String(t.value) }])).values()];
}

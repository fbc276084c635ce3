import { FailedPreconditionError } from '@mlops/errors';
import type { ModelVersionRow } from '../store/entities';

/** The tag a version without an ONNX model carries (besides its `servable: false` field). */
export const SERVABLE_TAG = 'mlops.servable';

/** Refuses to deploy (promote, canary) a version that has no ONNX model, saying how to make one that serving can run. */
export function assertServable(row: ModelVersionRow): void {
  if (row.servable !== false) return;
  throw new FailedPreconditionError(
    `Model Version (name=${row.name}, version=${row.version}) is not servable: it has no ONNX model (source ${row.source}). ` +
      'To make it servable, log the model with an ONNX flavor (e.g. mlflow.onnx.log_model, or convert a scikit-learn model with skl2onnx.to_onnx and log that) and register it as a new version.',
  );
}

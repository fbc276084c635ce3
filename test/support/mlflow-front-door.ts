import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { interopPython } from './python';

const run = promisify(execFile);
const SCRIPT = resolve(__dirname, '../interop/front-door/mlflow_front_door.py');

export interface FrontDoorClientResult {
  experiment_id: string;
  run_id: string;
  status: string;
  params: Record<string, string>;
  history: [number, number][];
  artifacts: string[];
  created: string;
  fetched: { name: string; tags: Record<string, string> };
  existing: { name: string; aliases: Record<string, string> } | null;
  /** The `🏃 View run ... at: <url>` line the client prints when the run ends. */
  viewRunUrl?: string;
}

/**
 * Runs the official mlflow client (test/interop/front-door/mlflow_front_door.py) with ONLY
 * MLFLOW_TRACKING_URI set of the MLflow variables (no MLFLOW_REGISTRY_URI, no client knobs): an experiment, a run with a param, a
 * metric history and an artifact; a registered model created and read back; `existingModel`
 * read. Throws with the client's output when it fails.
 */
export async function mlflowThroughFrontDoor(
  trackingUri: string,
  names: { experiment: string; newModel: string; existingModel?: string },
): Promise<FrontDoorClientResult> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('MLFLOW_')));
  try {
    const { stdout } = await run(interopPython(), [SCRIPT], {
      env: {
        ...env,
        MLFLOW_TRACKING_URI: trackingUri,
        EXPERIMENT_NAME: names.experiment,
        NEW_MODEL: names.newModel,
        EXISTING_MODEL: names.existingModel ?? '',
      },
      timeout: 90_000,
    });
    const lines = stdout.trim().split('\n');
    const result = JSON.parse(lines.at(-1)!) as FrontDoorClientResult;
    result.viewRunUrl = lines.map((l) => /View run \S+ at: (\S+)/.exec(l)?.[1]).find(Boolean);
    return result;
  } catch (error) {
    const e = error as Error & { stdout?: string; stderr?: string };
    throw new Error(`mlflow client through ${trackingUri} failed: ${e.message}\n${e.stdout ?? ''}\n${(e.stderr ?? '').slice(-3_000)}`);
  }
}

const TUTORIAL = resolve(__dirname, '../interop/front-door/mlflow_tutorial.py');

export interface TutorialResult {
  best_run: string;
  best_f1: number;
  f1_scores: number[];
  artifacts: string[];
  version: string;
  stage: string;
  sklearn_predictions: number[];
  expected_predictions: number[];
  onnx_version: string;
  onnx_stage: string;
  onnx_pyfunc_outputs: string[] | string;
  onnx_labels: number[] | null;
  grpc_labels: number[] | null;
}

/**
 * Runs test/interop/front-door/mlflow_tutorial.py, the MLflow tutorial flow typed as a data
 * scientist would (log_model, log_artifact, search_runs, register_model, stages, load_model,
 * then an ONNX flavor model), with only MLFLOW_TRACKING_URI set; with `servingGrpc`, the
 * promoted ONNX version is also asked over KServe v2 gRPC.
 */
export async function mlflowTutorial(
  trackingUri: string,
  names: { experiment: string; model: string; onnxModel: string; servingGrpc?: string },
): Promise<TutorialResult> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('MLFLOW_')));
  try {
    const { stdout } = await run(interopPython(), [TUTORIAL], {
      env: {
        ...env,
        MLFLOW_TRACKING_URI: trackingUri,
        EXPERIMENT_NAME: names.experiment,
        MODEL_NAME: names.model,
        ONNX_MODEL_NAME: names.onnxModel,
        SERVING_GRPC: names.servingGrpc ?? '',
        GIT_PYTHON_REFRESH: 'quiet',
      },
      timeout: 150_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    return JSON.parse(stdout.trim().split('\n').at(-1)!) as TutorialResult;
  } catch (error) {
    const e = error as Error & { stdout?: string; stderr?: string };
    throw new Error(`the MLflow tutorial through ${trackingUri} failed: ${e.message}\n${e.stdout ?? ''}\n${(e.stderr ?? '').slice(-4_000)}`);
  }
}

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

export interface ExpectedOutputs {
  logreg_v1: { rows: number[][]; probabilities: number[][]; label: number[] };
  logreg_v2: { rows: number[][]; probabilities: number[][]; label: number[] };
  linreg: { rows: number[][]; variable: number[]; feature_names: string[] };
}

export interface TestModels {
  dir: string;
  logregV1: string;
  logregV2: string;
  linreg: string;
  expected: ExpectedOutputs;
}

/**
 * Trains the test models with scikit-learn and converts them with skl2onnx, into a temp dir.
 * `python`: the interop venv's interpreter (interopPython() from test/support/python.ts).
 */
export function makeTestModels(python: string): TestModels {
  const dir = mkdtempSync(join(tmpdir(), 'serving-models-'));
  execFileSync(python, [resolve(__dirname, '../../../test/fixtures/serving/make_models.py'), dir], { stdio: 'pipe' });
  return {
    dir,
    logregV1: join(dir, 'logreg_v1.onnx'),
    logregV2: join(dir, 'logreg_v2.onnx'),
    linreg: join(dir, 'linreg.onnx'),
    expected: JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as ExpectedOutputs,
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type InferenceClient = grpc.Client & Record<string, any>;

/** A plain @grpc/grpc-js client of inference.GRPCInferenceService from our proto file. */
export function inferenceClient(address: string, options: grpc.ClientOptions = {}): InferenceClient {
  const definition = protoLoader.loadSync(resolve(__dirname, '../../../proto/grpc_service.proto'), {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as {
    inference: { GRPCInferenceService: grpc.ServiceClientConstructor };
  };
  return new pkg.inference.GRPCInferenceService(address, grpc.credentials.createInsecure(), options) as InferenceClient;
}

/** Promisified unary call. */
export function call<T = Record<string, unknown>>(client: InferenceClient, method: string, request: unknown): Promise<T> {
  return new Promise((done, fail) =>
    client[method](request, (error: grpc.ServiceError | null, response: T) => (error ? fail(error) : done(response))),
  );
}

export async function callError(client: InferenceClient, method: string, request: unknown): Promise<grpc.ServiceError> {
  try {
    await call(client, method, request);
  } catch (error) {
    return error as grpc.ServiceError;
  }
  throw new Error(`${method} succeeded, an error was expected`);
}

export const float32Raw = (rows: number[][]) => Buffer.from(new Float32Array(rows.flat()).buffer);

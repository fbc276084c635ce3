import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ExternalRun {
  command: string;
  env: Record<string, string>;
  outputDir: string;
  timeoutMs: number;
  /** Aborting kills the command (SIGTERM): the trainer is shutting down. */
  signal?: AbortSignal;
}

/** A failed external trainer, with the end of its stderr. */
export class ExternalTrainerError extends Error {
  override name = 'ExternalTrainerError';
}

/**
 * Runs an external trainer command in a shell with the dataset/output environment, and
 * returns its metrics.json once model.onnx and metrics.json are present and valid
 * (validating the model itself is the caller's job).
 */
export async function runExternalTrainer(run: ExternalRun): Promise<{ metrics: Record<string, unknown>; log: string }> {
  const tail: string[] = [];
  const keep = (chunk: Buffer) => {
    tail.push(chunk.toString());
    while (tail.join('').length > 4000 && tail.length > 1) tail.shift();
  };
  const code = await new Promise<number | string>((resolve, reject) => {
    const child = spawn(run.command, { shell: true, env: { ...process.env, ...run.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), run.timeoutMs);
    const abort = () => child.kill('SIGTERM');
    run.signal?.addEventListener('abort', abort, { once: true });
    child.once('error', (error) => {
      clearTimeout(timer);
      run.signal?.removeEventListener('abort', abort);
      reject(new ExternalTrainerError(`external trainer '${run.command}' did not start: ${error.message}`));
    });
    child.once('close', (exitCode, signal) => {
      clearTimeout(timer);
      run.signal?.removeEventListener('abort', abort);
      resolve(exitCode ?? signal ?? 'unknown');
    });
  });
  const log = tail.join('').slice(-4000).trim();
  run.signal?.throwIfAborted();
  if (code !== 0) {
    const why = code === 'SIGKILL' ? `was killed (timeout ${run.timeoutMs} ms?)` : `exited with ${code}`;
    throw new ExternalTrainerError(`external trainer '${run.command}' ${why}${log ? `: ${log.split('\n').slice(-5).join(' | ')}` : ''}`);
  }
  const modelPath = join(run.outputDir, 'model.onnx');
  const metricsPath = join(run.outputDir, 'metrics.json');
  if (!existsSync(modelPath)) throw new ExternalTrainerError(`external trainer '${run.command}' did not write model.onnx in OUTPUT_DIR (${run.outputDir})`);
  if (!existsSync(metricsPath)) throw new ExternalTrainerError(`external trainer '${run.command}' did not write metrics.json in OUTPUT_DIR (${run.outputDir})`);
  let metrics: unknown;
  try {
    metrics = JSON.parse(readFileSync(metricsPath, 'utf8'));
  } catch (error) {
    throw new ExternalTrainerError(`metrics.json written by the external trainer is not valid JSON: ${(error as Error).message}`);
  }
  if (!metrics || typeof metrics !== 'object' || Array.isArray(metrics)) {
    throw new ExternalTrainerError('metrics.json written by the external trainer must be a JSON object of metric names to numbers');
  }
  return { metrics: metrics as Record<string, unknown>, log };
}

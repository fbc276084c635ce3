import { setImmediate as nextTurn } from 'node:timers/promises';

/** Runs a training generator to its result in one go (synchronously). */
export function runToEnd<T>(steps: Generator<unknown, T, void>): T {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/**
 * Runs a training generator in slices of about `sliceMs`, giving the event loop a turn
 * between slices. Training is CPU-bound JavaScript: run in one go it would starve the
 * process's timers and sockets (Kafka heartbeats, HTTP health checks) for its whole length.
 * An aborted `signal` stops it between steps (throws the signal's reason).
 */
export async function runInSlices<T>(steps: Generator<unknown, T, void>, sliceMs = 20, signal?: AbortSignal): Promise<T> {
  let sliceStart = performance.now();
  for (;;) {
    signal?.throwIfAborted();
    const step = steps.next();
    if (step.done) return step.value;
    if (performance.now() - sliceStart >= sliceMs) {
      await nextTurn();
      sliceStart = performance.now();
    }
  }
}

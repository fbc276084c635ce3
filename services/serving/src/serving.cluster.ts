import cluster, { type Worker } from 'node:cluster';
import type { ServingConfig } from './serving.config';

export interface ClusterLogger {
  log(message: string): void;
  error(message: string): void;
}

export interface ServingPrimary {
  /** Worker index -> pid of the process serving it now. */
  pids(): Map<number, number>;
  /** SIGTERM to every worker (each drains), SIGKILL to those still running after the grace period. */
  stop(): Promise<void>;
}

/** A worker that dies within this long of starting counts as crash-looping: restarts back off. */
const QUICK_DEATH_MS = 5_000;
const MAX_RESTART_DELAY_MS = 30_000;

/**
 * The primary of SERVING_WORKERS > 1: forks the workers (node:cluster; they share the gRPC
 * port, the primary hands out connections round-robin, so one HTTP/2 connection stays on one
 * worker), restarts a worker that exits while not stopping (after 0.5 s, doubling while it
 * keeps dying within 5 s, at most 30 s), and on stop() drains all of them. Each worker runs
 * the whole service (models, bus, deployment subscription) with SERVING_WORKER_INDEX set, and
 * SERVING_WORKER_RESTARTS so a restarted one replays the deployments it missed.
 */
export function startServingPrimary(config: ServingConfig, log: ClusterLogger): ServingPrimary {
  const workers = new Map<number, Worker>();
  const delays = new Map<number, number>();
  const restarts = new Map<number, number>();
  let stopping = false;

  const fork = (index: number) => {
    const started = Date.now();
    const worker = cluster.fork({ SERVING_WORKER_INDEX: String(index), SERVING_WORKER_RESTARTS: String(restarts.get(index) ?? 0) });
    workers.set(index, worker);
    worker.on('exit', (code, signal) => {
      if (workers.get(index) === worker) workers.delete(index);
      if (stopping) return;
      const delay = Date.now() - started < QUICK_DEATH_MS ? Math.min((delays.get(index) ?? 250) * 2, MAX_RESTART_DELAY_MS) : 500;
      delays.set(index, delay);
      log.error(`worker ${index} (pid ${worker.process.pid}) exited (${signal ?? `code ${code}`}); restarting in ${delay} ms`);
      restarts.set(index, (restarts.get(index) ?? 0) + 1);
      setTimeout(() => stopping || fork(index), delay).unref();
    });
  };
  for (let i = 0; i < config.SERVING_WORKERS; i++) fork(i);
  log.log(`primary pid ${process.pid}: ${config.SERVING_WORKERS} workers on ${config.SERVING_GRPC_HOST}:${config.SERVING_GRPC_PORT}`);

  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      stopping = true;
      const running = [...workers.values()].filter((w) => !w.isDead());
      const exits = running.map((w) => new Promise<void>((done) => (w.isDead() ? done() : w.once('exit', () => done()))));
      for (const w of running) w.process.kill('SIGTERM');
      // Each worker drains within its own grace period; the margin covers flushing events and closing the bus.
      const kill = setTimeout(() => running.forEach((w) => w.isDead() || w.process.kill('SIGKILL')), (config.SERVING_SHUTDOWN_GRACE_S + 10) * 1000);
      await Promise.all(exits);
      clearTimeout(kill);
    })());

  return {
    pids: () => new Map([...workers].map(([i, w]) => [i, w.process.pid!])),
    stop,
  };
}

/** main.ts for the primary: starts the workers, and on SIGTERM/SIGINT drains them all and exits. */
export function runServingPrimary(config: ServingConfig): void {
  const log: ClusterLogger = { log: (m) => console.log(`serving: ${m}`), error: (m) => console.error(`serving: ${m}`) };
  const primary = startServingPrimary(config, log);
  const stop = (signal: string) => {
    log.log(`${signal}, draining ${config.SERVING_WORKERS} workers`);
    void primary.stop().then(() => process.exit(0));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

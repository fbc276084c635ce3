import cluster, { type Worker } from 'node:cluster';

/**
 * The primary of a multi-process tracking service (TRACKING_WORKERS > 1): it forks the
 * workers, which share the listening port, and serves nothing itself. The first worker
 * starts alone, so it alone runs the database migrations; the rest start once it listens.
 * A worker that dies after it served is replaced; one that dies before it ever listened
 * (bad database URL, port in use) stops the whole service, so a broken start fails fast.
 */
export function superviseWorkers(service: string, count: number): void {
  const listened = new WeakSet<Worker>();
  let stopping = false;
  const fork = () => cluster.fork().once('listening', function (this: Worker) {
    listened.add(this);
  });

  fork().once('listening', () => {
    for (let i = 1; i < count; i++) fork();
  });
  console.log(`${service}: primary ${process.pid} starting ${count} workers`);

  cluster.on('exit', (worker, code, signal) => {
    const alive = Object.keys(cluster.workers ?? {}).length;
    if (stopping) {
      if (alive === 0) process.exit();
      return;
    }
    if (!listened.has(worker)) {
      console.error(`${service}: worker ${worker.process.pid} exited (${signal ?? code}) before it listened; stopping`);
      stopAll('SIGTERM', 1);
      return;
    }
    console.error(`${service}: worker ${worker.process.pid} exited (${signal ?? code}); starting another`);
    fork();
  });

  const stopAll = (signal: NodeJS.Signals, exitCode = 0) => {
    if (stopping) return;
    stopping = true;
    process.exitCode = exitCode;
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
    if (workers.length === 0) process.exit(exitCode);
    for (const worker of workers) worker.process.kill(signal);
  };
  process.once('SIGTERM', () => stopAll('SIGTERM'));
  process.once('SIGINT', () => stopAll('SIGINT'));
}

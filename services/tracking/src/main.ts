import 'reflect-metadata';
import cluster from 'node:cluster';
import { runService } from '@mlops/runtime';
import { loadTrackingConfig } from './tracking.config';
import { startTracking } from './tracking.app';
import { superviseWorkers } from './tracking.workers';

const serve = () => runService('tracking', () => loadTrackingConfig(), (config) => startTracking(config));

/** TRACKING_WORKERS; a bad environment counts as 1 here so that runService reports it the usual way. */
function configuredWorkers(): number {
  try {
    return loadTrackingConfig().TRACKING_WORKERS;
  } catch {
    return 1;
  }
}

if (cluster.isWorker) {
  // Stopping the process group signals a worker twice (directly and via the primary);
  // this listener keeps the second SIGTERM/SIGINT from killing it while it drains.
  process.on('SIGTERM', () => undefined).on('SIGINT', () => undefined);
  serve();
} else {
  const workers = configuredWorkers();
  if (workers > 1) superviseWorkers('tracking', workers);
  else serve();
}

import 'reflect-metadata';
import cluster from 'node:cluster';
import { runService } from '@mlops/runtime';
import { startServing } from './serving.app';
import { runServingPrimary } from './serving.cluster';
import { loadServingConfig, type ServingConfig } from './serving.config';

/** The config when this process is the primary of several workers; otherwise runService parses (and reports) it. */
function primaryConfig(): ServingConfig | undefined {
  if (!cluster.isPrimary) return undefined;
  try {
    const config = loadServingConfig();
    return config.SERVING_WORKERS > 1 ? config : undefined;
  } catch {
    return undefined;
  }
}

const primary = primaryConfig();
if (primary) runServingPrimary(primary);
else runService('serving', () => loadServingConfig(), (config) => startServing(config));

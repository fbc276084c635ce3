import { NotFoundError } from '@mlops/errors';
import type { ModelRepository } from './model-repository';
import { statisticsView, type ModelStatistics } from './model-statistics';

/**
 * The statistics request of both protocols: every version loaded now (zeros when unused) and
 * every version with counters, of one model or all (`name` empty), of one version or all
 * (`version` empty). A model with neither is NOT_FOUND, as in Triton.
 */
export function statisticsReport(repository: ModelRepository, statistics: ModelStatistics, name: string, version: string) {
  if (version !== '' && !/^\d+$/.test(version)) throw new NotFoundError(`model '${name}' has no version '${version}'`);
  const wanted = version === '' ? undefined : Number(version);
  for (const model of repository.all()) {
    if ((name === '' || model.name === name) && (wanted === undefined || model.version === wanted)) statistics.track(model.name, model.version);
  }
  const list = statistics.list(name, wanted);
  if (name !== '' && list.length === 0) {
    throw new NotFoundError(version === '' ? `model '${name}' is not loaded and has no statistics` : `model '${name}' version ${version} is not loaded and has no statistics`);
  }
  return { model_stats: list.map(statisticsView) };
}

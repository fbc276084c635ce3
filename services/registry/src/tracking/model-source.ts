import { Injectable, Logger } from '@nestjs/common';
import { InvalidInputError, NotFoundError } from '@mlops/errors';
import { SERVICE } from '../registry.names';
import { TrackingClient, type ModelFiles, type TrackedRun } from './tracking-client';

/** A `source` of model-versions/create read from the tracking server. */
export interface TrackedSource {
  /** Where MLflow clients download it: an `mlflow-artifacts:/` directory on the tracking server. */
  storageLocation: string;
  runId?: string;
  modelId?: string;
  /** The run that produced it (metrics for the gate, tags and inputs for lineage). */
  run?: TrackedRun;
  files: ModelFiles;
}

const RUNS = /^runs:\/([^/]+)\/?(.*)$/;
const LOGGED_MODEL = /^models:\/([^/@]+)\/?$/;

/** Whether a source is read from the tracking server (else it is a file under an import root). */
export function isTrackedSource(source: string): boolean {
  return /^(runs|models|mlflow-artifacts):/.test(source);
}

/**
 * Resolves `runs:/<run_id>/<path>`, `models:/<model_id>` and `mlflow-artifacts:/...` sources
 * the way MLflow 3's client does (a run's artifact directory with an MLmodel, else the run's
 * logged model of that name), and downloads the files through the tracking artifact proxy.
 */
@Injectable()
export class ModelSources {
  private readonly log = new Logger(SERVICE);

  constructor(private readonly tracking: TrackingClient) {}

  async resolve(source: string, given: { runId?: string; modelId?: string } = {}): Promise<TrackedSource> {
    const located = await this.locate(source, given);
    const runId = located.runId ?? given.runId;
    const run = located.run ?? (runId ? await this.tracking.getRun(runId) : undefined);
    const files = await this.tracking.download(located.storageLocation);
    if (files.size === 0) throw new InvalidInputError(`source "${source}": there are no files at ${located.storageLocation}`);
    this.log.log(`source ${source} resolved to ${located.storageLocation} (${files.size} files${runId ? `, run ${runId}` : ''}${located.modelId ? `, logged model ${located.modelId}` : ''})`);
    return { ...located, runId, run, files };
  }

  /**
   * The download location of a run's logged model (the one at the largest step of the run's
   * `outputs.model_outputs`), for versions registered from training.completed; undefined
   * when tracking is not configured or the run logged no model.
   */
  async loggedModelOfRun(runId: string): Promise<{ storageLocation: string; modelId: string } | undefined> {
    if (!this.tracking.configured) return undefined;
    const outputs = (await this.tracking.getRun(runId)).outputs?.model_outputs ?? [];
    if (!outputs.length) return undefined;
    const latest = outputs.reduce((best, o) => (Number(o.step ?? 0) > Number(best.step ?? 0) ? o : best));
    const model = await this.tracking.getLoggedModel(latest.model_id);
    return { storageLocation: model.artifact_uri, modelId: model.model_id };
  }

  private async locate(source: string, given: { modelId?: string }): Promise<Omit<TrackedSource, 'files'>> {
    const runs = RUNS.exec(source);
    if (runs) return this.locateInRun(runs[1], runs[2].replace(/\/+$/, ''));
    const logged = LOGGED_MODEL.exec(source);
    if (logged) {
      const model = await this.tracking.getLoggedModel(logged[1]);
      return { storageLocation: model.artifact_uri, runId: model.source_run_id || undefined, modelId: model.model_id };
    }
    if (source.startsWith('mlflow-artifacts:')) return { storageLocation: source.replace(/\/+$/, ''), modelId: given.modelId };
    throw new InvalidInputError(`source "${source}": expected runs:/<run_id>/<path>, models:/<model_id> or mlflow-artifacts:/...`);
  }

  /** MLflow 3: the run's artifact directory if it holds an MLmodel, else the run's logged model named `path`. */
  private async locateInRun(runId: string, path: string): Promise<Omit<TrackedSource, 'files'>> {
    const run = await this.tracking.getRun(runId);
    const directory = path ? `${run.info.artifact_uri}/${path}` : run.info.artifact_uri;
    const entries = await this.tracking.list(directory);
    if (entries.some((e) => !e.is_dir && e.path.split('/').pop() === 'MLmodel')) return { storageLocation: directory, runId, run };
    const steps = new Map((run.outputs?.model_outputs ?? []).map((o) => [o.model_id, Number(o.step ?? 0)]));
    const logged = (await this.tracking.searchLoggedModels(run.info.experiment_id, path)).filter((m) => m.source_run_id === runId);
    if (logged.length === 0) {
      throw new NotFoundError(`Unable to find a logged_model with artifact_path ${path} under run ${runId} (and ${directory} has no MLmodel file)`);
    }
    const latest = logged.reduce((best, m) => ((steps.get(m.model_id) ?? 0) > (steps.get(best.model_id) ?? 0) ? m : best));
    return { storageLocation: latest.artifact_uri, runId, run, modelId: latest.model_id };
  }
}

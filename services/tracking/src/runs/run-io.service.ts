import { Injectable } from '@nestjs/common';
import { FailedPreconditionError, InvalidInputError, NotFoundError, type FieldIssue } from '@mlops/errors';
import { LoggedModelRepository } from '../store/logged-model.repository';
import { RunIoRepository } from '../store/run-io.repository';
import type { DatasetInput, ModelOutput } from './run';
import { RunLogService } from './run-log.service';
import { RunService } from './run.service';

/** MLflow's limits on a dataset input's fields. */
const DATASET_LIMITS = { name: 500, digest: 36, sourceType: 36 };
const CONTEXT_TAG = 'mlflow.data.context';
/** The run tag MLflow keeps runs/log-model's models in (a JSON list). */
const LOGGED_MODELS_TAG = 'mlflow.log-model.history';
const MODEL_JSON_FIELDS = ['artifact_path', 'flavors', 'utc_time_created', 'run_id'];

/** runs/log-inputs (datasets and logged models a run used), runs/outputs (logged models it produced) and the legacy runs/log-model. */
@Injectable()
export class RunIoService {
  constructor(
    private readonly runs: RunService,
    private readonly io: RunIoRepository,
    private readonly models: LoggedModelRepository,
    private readonly runLog: RunLogService,
  ) {}

  /** runs/log-model (MLflow 2 clients): appends the model's MLmodel dict to the run's mlflow.log-model.history tag. */
  async logModel(runId: unknown, modelJson: string): Promise<void> {
    let model: unknown;
    try {
      model = JSON.parse(modelJson);
    } catch {
      throw InvalidInputError.of([{ field: 'model_json', message: 'expected a JSON object, got text that is not JSON' }]);
    }
    if (!model || typeof model !== 'object' || Array.isArray(model)) throw InvalidInputError.of([{ field: 'model_json', message: 'expected a JSON object' }]);
    const missing = MODEL_JSON_FIELDS.filter((f) => !(f in model));
    if (missing.length) throw InvalidInputError.of([{ field: 'model_json', message: `the model is missing ${missing.join(', ')}` }]);
    const run = await this.runs.getRun(runId);
    const previous = run.tags.find((t) => t.key === LOGGED_MODELS_TAG)?.value;
    const history = [...parseHistory(run.info.runUuid, previous), model];
    await this.runLog.logBatch(run.info.runUuid, { tags: [{ key: LOGGED_MODELS_TAG, value: JSON.stringify(history) }] });
  }

  async logInputs(runId: unknown, datasets: DatasetInput[], modelIds: string[]): Promise<void> {
    const run = await this.runs.requireRun(runId);
    this.runs.assertActive(run);
    const issues: FieldIssue[] = [];
    datasets.forEach(({ dataset }, i) => {
      const field = `datasets[${i}].dataset`;
      if (dataset.name.length > DATASET_LIMITS.name) issues.push({ field: `${field}.name`, message: `longer than ${DATASET_LIMITS.name} characters` });
      if (dataset.digest.length > DATASET_LIMITS.digest) issues.push({ field: `${field}.digest`, message: `longer than ${DATASET_LIMITS.digest} characters` });
      if (dataset.sourceType.length > DATASET_LIMITS.sourceType) issues.push({ field: `${field}.source_type`, message: `longer than ${DATASET_LIMITS.sourceType} characters` });
    });
    if (issues.length) throw InvalidInputError.of(issues);
    await this.requireModels(modelIds, 'models');
    await this.io.upsertInputs(
      run.runUuid,
      datasets.map(({ dataset, tags }) => ({
        name: dataset.name,
        digest: dataset.digest,
        context: tags.find((t) => t.key === CONTEXT_TAG)?.value ?? null,
        sourceType: dataset.sourceType,
        source: dataset.source,
        schema: dataset.schema ?? null,
        profile: dataset.profile ?? null,
        tags: JSON.stringify(tags),
      })),
      modelIds,
    );
  }

  async logOutputs(runId: unknown, outputs: ModelOutput[]): Promise<void> {
    const run = await this.runs.requireRun(runId);
    this.runs.assertActive(run);
    await this.requireModels(outputs.map((o) => o.modelId), 'models');
    await this.io.upsertOutputs(outputs.map((o) => ({ runUuid: run.runUuid, modelId: o.modelId, step: o.step })));
  }

  private async requireModels(modelIds: string[], field: string): Promise<void> {
    for (const [i, modelId] of modelIds.entries()) {
      if (!(await this.models.find(modelId))) throw new NotFoundError(`${field}[${i}].model_id: Logged model with ID '${modelId}' not found.`);
    }
  }
}

/** The models already in the tag; a tag someone set to something else is not overwritten. */
function parseHistory(runId: string, tag: string | undefined): unknown[] {
  if (tag === undefined) return [];
  try {
    const parsed: unknown = JSON.parse(tag);
    if (Array.isArray(parsed)) return parsed;
  } catch {
    // not JSON: refused below
  }
  throw new FailedPreconditionError(`the ${LOGGED_MODELS_TAG} tag of run ${runId} is not a JSON list; delete it to log models again`);
}

import { Injectable } from '@nestjs/common';
import { InvalidInputError, NotFoundError, type FieldIssue } from '@mlops/errors';
import { LoggedModelRepository } from '../store/logged-model.repository';
import { RunIoRepository } from '../store/run-io.repository';
import type { DatasetInput, ModelOutput } from './run';
import { RunService } from './run.service';

/** MLflow's limits on a dataset input's fields. */
const DATASET_LIMITS = { name: 500, digest: 36, sourceType: 36 };
const CONTEXT_TAG = 'mlflow.data.context';

/** runs/log-inputs (datasets and logged models a run used) and runs/outputs (logged models it produced). */
@Injectable()
export class RunIoService {
  constructor(
    private readonly runs: RunService,
    private readonly io: RunIoRepository,
    private readonly models: LoggedModelRepository,
  ) {}

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

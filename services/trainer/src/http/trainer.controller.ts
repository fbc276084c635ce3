import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { z } from 'zod';
import { issuesOf } from '@mlops/contracts';
import { invalidFields } from '@mlops/http';
import { DatasetReferences } from '../jobs/dataset-references';
import { TrainerService, type JobRequest } from '../trainer.service';

const DATASET_ID = /^(?<featureView>[A-Za-z_][A-Za-z0-9_]{0,127})-v(?<version>[1-9]\d*)$/;

/** A dataset by reference: the datasetId POST /datasets answers ("user_clicks-v3") or {featureView, version}. */
const datasetReference = z.union(
  [
    z
      .string()
      .regex(DATASET_ID)
      .transform((id) => {
        const { featureView, version } = DATASET_ID.exec(id)!.groups!;
        return { featureView, version: Number(version) };
      }),
    z.object({ featureView: z.string().min(1).max(128), version: z.number().int().positive() }).strict(),
  ],
  { error: 'expected a datasetId such as "user_clicks-v3" or {"featureView": "user_clicks", "version": 3}' },
);

/**
 * POST /jobs: {model, dataset | datasetUri, target?, params?}. `dataset` names a materialized
 * dataset (its hash and id go into the run, as for loop-driven training); `datasetUri` is an
 * Arrow file path, trained on without dataset lineage.
 */
const jobSchema = z
  .object({
    model: z.string(),
    dataset: datasetReference.optional(),
    datasetUri: z.string().min(1).optional(),
    target: z.string().min(1).optional(),
    params: z.record(z.string(), z.unknown()).optional(),
  })
  .strict()
  .refine((r) => (r.dataset === undefined) !== (r.datasetUri === undefined), {
    path: ['dataset'],
    message: 'give one of dataset (a materialized dataset: "user_clicks-v3") or datasetUri (an Arrow file path)',
  });

@Controller()
export class TrainerController {
  constructor(
    private readonly service: TrainerService,
    private readonly datasets: DatasetReferences,
  ) {}

  /** Starts a job; 202 with the job (poll GET /jobs/:id). */
  @Post('jobs')
  @HttpCode(202)
  async submit(@Body() body: unknown) {
    const parsed = jobSchema.safeParse(body);
    if (!parsed.success) throw invalidFields(issuesOf(parsed.error));
    const { dataset, ...request } = parsed.data;
    const lineage = dataset ? await this.datasets.resolve(dataset) : { datasetUri: request.datasetUri! };
    const { job, done } = this.service.submit({ ...request, ...lineage } as JobRequest);
    void done;
    return job;
  }

  @Get('jobs')
  list() {
    return { jobs: this.service.listJobs() };
  }

  @Get('jobs/:jobId')
  get(@Param('jobId') jobId: string) {
    return this.service.getJob(jobId);
  }
}

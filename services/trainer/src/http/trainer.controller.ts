import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { InvalidJobRequest, TrainerService, type JobRequest } from '../trainer.service';

@Controller()
export class TrainerController {
  constructor(private readonly service: TrainerService) {}

  /** Starts a job: {model, datasetUri, target?, params?}; 202 with the job (poll GET /jobs/:id). */
  @Post('jobs')
  @HttpCode(202)
  submit(@Body() body: unknown) {
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new InvalidJobRequest('expected a JSON object {model, datasetUri, target?, params?}');
    const { model, datasetUri, target, params } = body as Record<string, unknown>;
    const { job, done } = this.service.submit({ model, datasetUri, target, params } as JobRequest);
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

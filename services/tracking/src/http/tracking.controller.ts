import { Body, Controller, Get, HttpCode, Inject, Post, Query } from '@nestjs/common';
import { TrackingService } from '../tracking.service';
import {
  keyValues,
  list,
  message,
  metricOf,
  optionalInt,
  optionalString,
  requiredString,
  runIdOf,
  type Message,
} from './request';
import { TRACKING_SERVICE } from './tokens';

/** MLflow's tracking REST API (service.proto), under /api/2.0/mlflow and the /ajax-api alias. */
@Controller(['api/2.0/mlflow', 'ajax-api/2.0/mlflow'])
export class TrackingController {
  constructor(@Inject(TRACKING_SERVICE) private readonly tracking: TrackingService) {}

  // ---- experiments
  @Post('experiments/create')
  @HttpCode(200)
  async createExperiment(@Body() raw: unknown) {
    const body = message(raw);
    const id = await this.tracking.createExperiment(body.name, body.artifact_location, keyValues(body, 'tags'));
    return { experiment_id: id };
  }

  @Get('experiments/get')
  async getExperiment(@Query() query: Message) {
    return { experiment: await this.tracking.getExperiment(requiredString(query, 'experiment_id')) };
  }

  @Get('experiments/get-by-name')
  async getExperimentByName(@Query() query: Message) {
    return { experiment: await this.tracking.getExperimentByName(requiredString(query, 'experiment_name')) };
  }

  @Get('experiments/search')
  searchExperimentsGet(@Query() query: Message) {
    return this.searchExperiments(query);
  }

  @Post('experiments/search')
  @HttpCode(200)
  searchExperiments(@Body() raw: unknown) {
    const body = message(raw);
    return this.tracking.searchExperiments({
      maxResults: optionalInt(body, 'max_results'),
      pageToken: optionalString(body, 'page_token'),
      viewType: body.view_type,
      filter: optionalString(body, 'filter'),
    });
  }

  @Post('experiments/delete')
  @HttpCode(200)
  async deleteExperiment(@Body() raw: unknown) {
    await this.tracking.setExperimentLifecycle(requiredString(message(raw), 'experiment_id'), 'deleted');
    return {};
  }

  @Post('experiments/restore')
  @HttpCode(200)
  async restoreExperiment(@Body() raw: unknown) {
    await this.tracking.setExperimentLifecycle(requiredString(message(raw), 'experiment_id'), 'active');
    return {};
  }

  // ---- runs
  @Post('runs/create')
  @HttpCode(200)
  async createRun(@Body() raw: unknown) {
    const body = message(raw);
    const run = await this.tracking.createRun({
      experimentId: body.experiment_id,
      userId: body.user_id,
      runName: body.run_name,
      startTime: optionalInt(body, 'start_time'),
      tags: keyValues(body, 'tags'),
    });
    return { run };
  }

  @Post('runs/update')
  @HttpCode(200)
  async updateRun(@Body() raw: unknown) {
    const body = message(raw);
    const runInfo = await this.tracking.updateRun({
      runId: runIdOf(body),
      status: body.status,
      endTime: optionalInt(body, 'end_time'),
      runName: body.run_name,
    });
    return { run_info: runInfo };
  }

  @Post('runs/delete')
  @HttpCode(200)
  async deleteRun(@Body() raw: unknown) {
    await this.tracking.setRunLifecycle(runIdOf(message(raw)), 'deleted');
    return {};
  }

  @Post('runs/restore')
  @HttpCode(200)
  async restoreRun(@Body() raw: unknown) {
    await this.tracking.setRunLifecycle(runIdOf(message(raw)), 'active');
    return {};
  }

  @Get('runs/get')
  async getRun(@Query() query: Message) {
    return { run: await this.tracking.getRun(runIdOf(query)) };
  }

  @Post('runs/log-metric')
  @HttpCode(200)
  async logMetric(@Body() raw: unknown) {
    const body = message(raw);
    await this.tracking.logBatch(runIdOf(body), { metrics: [metricOf(body, '')] });
    return {};
  }

  @Post('runs/log-parameter')
  @HttpCode(200)
  async logParam(@Body() raw: unknown) {
    const body = message(raw);
    await this.tracking.logBatch(runIdOf(body), { params: [{ key: requiredString(body, 'key'), value: requiredValue(body) }] });
    return {};
  }

  @Post('runs/set-tag')
  @HttpCode(200)
  async setTag(@Body() raw: unknown) {
    const body = message(raw);
    await this.tracking.logBatch(runIdOf(body), { tags: [{ key: requiredString(body, 'key'), value: requiredValue(body) }] });
    return {};
  }

  @Post('runs/delete-tag')
  @HttpCode(200)
  async deleteTag(@Body() raw: unknown) {
    const body = message(raw);
    await this.tracking.deleteTag(runIdOf(body), requiredString(body, 'key'));
    return {};
  }

  @Post('runs/log-batch')
  @HttpCode(200)
  async logBatch(@Body() raw: unknown) {
    const body = message(raw);
    await this.tracking.logBatch(runIdOf(body), {
      metrics: list(body, 'metrics').map((m, i) => metricOf(m, `metrics[${i}].`)),
      params: keyValues(body, 'params'),
      tags: keyValues(body, 'tags'),
    });
    return {};
  }

  @Post('runs/search')
  @HttpCode(200)
  searchRuns(@Body() raw: unknown) {
    const body = message(raw);
    return this.tracking.searchRuns({
      experimentIds: list(body, 'experiment_ids'),
      filter: optionalString(body, 'filter'),
      viewType: body.run_view_type,
      maxResults: optionalInt(body, 'max_results'),
      orderBy: list(body, 'order_by').map(String),
      pageToken: optionalString(body, 'page_token'),
    });
  }

  @Get('metrics/get-history')
  metricHistory(@Query() query: Message) {
    return this.tracking.metricHistory(
      runIdOf(query),
      requiredString(query, 'metric_key'),
      optionalInt(query, 'max_results'),
      optionalString(query, 'page_token'),
    );
  }

  /**
   * MLflow 3 clients look for logged models (e.g. when downloading `runs:/` artifacts). This
   * store has no logged models, so the answer is always an empty page.
   */
  @Post('logged-models/search')
  @HttpCode(200)
  searchLoggedModels(@Body() raw: unknown) {
    list(message(raw), 'experiment_ids');
    return { models: [] };
  }

  @Get('artifacts/list')
  listArtifacts(@Query() query: Message) {
    return this.tracking.listArtifacts(runIdOf(query), optionalString(query, 'path'));
  }
}

function requiredValue(body: Message): string {
  if (body.value === undefined || body.value === null) return requiredString(body, 'value');
  return String(body.value);
}

/** MLflow's server answers GET /health with "OK"; its clients and probes use it. */
@Controller()
export class MlflowHealthController {
  @Get('health')
  health() {
    return 'OK';
  }
}

import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { RunArtifactsService } from '../artifacts/run-artifacts.service';
import { MetricHistoryService } from '../runs/metric-history.service';
import { RunIoService } from '../runs/run-io.service';
import { RunLogService } from '../runs/run-log.service';
import { RunService } from '../runs/run.service';
import { RunSearchService } from '../search/run-search.service';
import { metricJson, nextPage, runInfoJson, runJson } from './mlflow-json';
import {
  datasetInputs,
  keyValues,
  list,
  message,
  metricOf,
  modelIds,
  modelOutputs,
  optionalInt,
  optionalString,
  requiredString,
  runIdOf,
  type Message,
} from './request';

/** MLflow's run routes (service.proto): runs, what they log, their inputs and outputs, search, metric history, artifact listing. */
@Controller(['api/2.0/mlflow', 'ajax-api/2.0/mlflow'])
export class RunsController {
  constructor(
    private readonly runs: RunService,
    private readonly runLog: RunLogService,
    private readonly search: RunSearchService,
    private readonly history: MetricHistoryService,
    private readonly artifacts: RunArtifactsService,
    private readonly io: RunIoService,
  ) {}

  @Post('runs/create')
  @HttpCode(200)
  async createRun(@Body() raw: unknown) {
    const body = message(raw);
    const run = await this.runs.createRun({
      experimentId: body.experiment_id,
      userId: body.user_id,
      runName: body.run_name,
      startTime: optionalInt(body, 'start_time'),
      tags: keyValues(body, 'tags'),
    });
    return { run: runJson(run) };
  }

  @Post('runs/update')
  @HttpCode(200)
  async updateRun(@Body() raw: unknown) {
    const body = message(raw);
    const run = await this.runs.updateRun({
      runId: runIdOf(body),
      status: body.status,
      endTime: optionalInt(body, 'end_time'),
      runName: body.run_name,
    });
    return { run_info: runInfoJson(run) };
  }

  @Post('runs/delete')
  @HttpCode(200)
  async deleteRun(@Body() raw: unknown) {
    await this.runs.setRunLifecycle(runIdOf(message(raw)), 'deleted');
    return {};
  }

  @Post('runs/restore')
  @HttpCode(200)
  async restoreRun(@Body() raw: unknown) {
    await this.runs.setRunLifecycle(runIdOf(message(raw)), 'active');
    return {};
  }

  @Get('runs/get')
  async getRun(@Query() query: Message) {
    return { run: runJson(await this.runs.getRun(runIdOf(query))) };
  }

  @Post('runs/log-metric')
  @HttpCode(200)
  async logMetric(@Body() raw: unknown) {
    const body = message(raw);
    await this.runLog.logBatch(runIdOf(body), { metrics: [metricOf(body, '')] });
    return {};
  }

  @Post('runs/log-parameter')
  @HttpCode(200)
  async logParam(@Body() raw: unknown) {
    const body = message(raw);
    await this.runLog.logBatch(runIdOf(body), { params: [{ key: requiredString(body, 'key'), value: requiredValue(body) }] });
    return {};
  }

  @Post('runs/set-tag')
  @HttpCode(200)
  async setTag(@Body() raw: unknown) {
    const body = message(raw);
    await this.runLog.logBatch(runIdOf(body), { tags: [{ key: requiredString(body, 'key'), value: requiredValue(body) }] });
    return {};
  }

  @Post('runs/delete-tag')
  @HttpCode(200)
  async deleteTag(@Body() raw: unknown) {
    const body = message(raw);
    await this.runs.deleteTag(runIdOf(body), requiredString(body, 'key'));
    return {};
  }

  @Post('runs/log-batch')
  @HttpCode(200)
  async logBatch(@Body() raw: unknown) {
    const body = message(raw);
    await this.runLog.logBatch(runIdOf(body), {
      metrics: list(body, 'metrics').map((m, i) => metricOf(m, `metrics[${i}].`)),
      params: keyValues(body, 'params'),
      tags: keyValues(body, 'tags'),
    });
    return {};
  }

  @Post('runs/log-inputs')
  @HttpCode(200)
  async logInputs(@Body() raw: unknown) {
    const body = message(raw);
    await this.io.logInputs(runIdOf(body), datasetInputs(body), modelIds(body));
    return {};
  }

  @Post('runs/outputs')
  @HttpCode(200)
  async logOutputs(@Body() raw: unknown) {
    const body = message(raw);
    await this.io.logOutputs(runIdOf(body), modelOutputs(body));
    return {};
  }

  @Post('runs/log-model')
  @HttpCode(200)
  async logModel(@Body() raw: unknown) {
    const body = message(raw);
    await this.io.logModel(runIdOf(body), requiredString(body, 'model_json'));
    return {};
  }

  @Post('runs/search')
  @HttpCode(200)
  async searchRuns(@Body() raw: unknown) {
    const body = message(raw);
    const page = await this.search.searchRuns({
      experimentIds: list(body, 'experiment_ids'),
      filter: optionalString(body, 'filter'),
      viewType: body.run_view_type,
      maxResults: optionalInt(body, 'max_results'),
      orderBy: list(body, 'order_by').map(String),
      pageToken: optionalString(body, 'page_token'),
    });
    return { runs: page.runs.map(runJson), ...nextPage(page.nextPageToken) };
  }

  @Get('metrics/get-history')
  async metricHistory(@Query() query: Message) {
    const page = await this.history.metricHistory(
      runIdOf(query),
      requiredString(query, 'metric_key'),
      optionalInt(query, 'max_results'),
      optionalString(query, 'page_token'),
    );
    return { metrics: page.metrics.map(metricJson), ...nextPage(page.nextPageToken) };
  }

  @Get('artifacts/list')
  async listArtifacts(@Query() query: Message) {
    const listing = await this.artifacts.listArtifacts(runIdOf(query), optionalString(query, 'path'));
    return { root_uri: listing.rootUri, files: listing.files };
  }
}

function requiredValue(body: Message): string {
  if (body.value === undefined || body.value === null) return requiredString(body, 'value');
  return String(body.value);
}

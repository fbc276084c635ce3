import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ExperimentService } from '../experiments/experiment.service';
import { experimentJson, nextPage } from './mlflow-json';
import { keyValues, message, optionalInt, optionalString, requiredString, type Message } from './request';

/** MLflow's experiment routes (service.proto), under /api/2.0/mlflow and the /ajax-api alias. */
@Controller(['api/2.0/mlflow', 'ajax-api/2.0/mlflow'])
export class ExperimentsController {
  constructor(private readonly experiments: ExperimentService) {}

  @Post('experiments/create')
  @HttpCode(200)
  async createExperiment(@Body() raw: unknown) {
    const body = message(raw);
    const id = await this.experiments.createExperiment(body.name, body.artifact_location, keyValues(body, 'tags'));
    return { experiment_id: id };
  }

  @Get('experiments/get')
  async getExperiment(@Query() query: Message) {
    return { experiment: experimentJson(await this.experiments.getExperiment(requiredString(query, 'experiment_id'))) };
  }

  @Get('experiments/get-by-name')
  async getExperimentByName(@Query() query: Message) {
    return { experiment: experimentJson(await this.experiments.getExperimentByName(requiredString(query, 'experiment_name'))) };
  }

  @Get('experiments/search')
  searchExperimentsGet(@Query() query: Message) {
    return this.searchExperiments(query);
  }

  @Post('experiments/search')
  @HttpCode(200)
  async searchExperiments(@Body() raw: unknown) {
    const body = message(raw);
    const page = await this.experiments.searchExperiments({
      maxResults: optionalInt(body, 'max_results'),
      pageToken: optionalString(body, 'page_token'),
      viewType: body.view_type,
      filter: optionalString(body, 'filter'),
    });
    return { experiments: page.experiments.map(experimentJson), ...nextPage(page.nextPageToken) };
  }

  @Post('experiments/update')
  @HttpCode(200)
  async updateExperiment(@Body() raw: unknown) {
    const body = message(raw);
    await this.experiments.renameExperiment(requiredString(body, 'experiment_id'), requiredString(body, 'new_name'));
    return {};
  }

  @Post('experiments/set-experiment-tag')
  @HttpCode(200)
  async setExperimentTag(@Body() raw: unknown) {
    const body = message(raw);
    await this.experiments.setExperimentTag(requiredString(body, 'experiment_id'), requiredString(body, 'key'), optionalString(body, 'value') ?? '');
    return {};
  }

  @Post('experiments/delete-experiment-tag')
  @HttpCode(200)
  async deleteExperimentTag(@Body() raw: unknown) {
    const body = message(raw);
    await this.experiments.deleteExperimentTag(requiredString(body, 'experiment_id'), requiredString(body, 'key'));
    return {};
  }

  @Post('experiments/delete')
  @HttpCode(200)
  async deleteExperiment(@Body() raw: unknown) {
    await this.experiments.setExperimentLifecycle(requiredString(message(raw), 'experiment_id'), 'deleted');
    return {};
  }

  @Post('experiments/restore')
  @HttpCode(200)
  async restoreExperiment(@Body() raw: unknown) {
    await this.experiments.setExperimentLifecycle(requiredString(message(raw), 'experiment_id'), 'active');
    return {};
  }
}

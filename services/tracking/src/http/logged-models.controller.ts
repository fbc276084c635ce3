import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { invalid } from '@mlops/http';
import { parseLoggedModelStatus } from '../models/logged-model-status';
import { LoggedModelService } from '../models/logged-model.service';
import { loggedModelJson, nextPage } from './mlflow-json';
import { keyValues, list, message, optionalInt, optionalString, requiredString, type Message } from './request';

/** MLflow 3's logged-model routes (service.proto), as the mlflow client calls them (`log_model`, `search_logged_models`, ...). */
@Controller(['api/2.0/mlflow', 'ajax-api/2.0/mlflow'])
export class LoggedModelsController {
  constructor(private readonly models: LoggedModelService) {}

  @Post('logged-models')
  @HttpCode(200)
  async create(@Body() raw: unknown) {
    const body = message(raw);
    const model = await this.models.create({
      experimentId: requiredString(body, 'experiment_id'),
      name: optionalString(body, 'name'),
      modelType: optionalString(body, 'model_type'),
      sourceRunId: optionalString(body, 'source_run_id'),
      params: keyValues(body, 'params'),
      tags: keyValues(body, 'tags'),
    });
    return { model: loggedModelJson(model) };
  }

  @Post('logged-models/search')
  @HttpCode(200)
  async search(@Body() raw: unknown) {
    const body = message(raw);
    const experimentIds = list(body, 'experiment_ids');
    if (experimentIds.length === 0) throw invalid("Missing value for required parameter 'experiment_ids'.");
    const page = await this.models.search({
      experimentIds,
      filter: optionalString(body, 'filter'),
      maxResults: optionalInt(body, 'max_results'),
      orderBy: list(body, 'order_by').map((item, i) => {
        const order = message(item);
        const fieldName = order.field_name;
        if (typeof fieldName !== 'string' || !fieldName) throw invalid(`Missing value for required parameter 'order_by[${i}].field_name'.`);
        if (order.ascending !== undefined && typeof order.ascending !== 'boolean') {
          throw invalid(`Invalid value ${JSON.stringify(order.ascending)} for parameter 'order_by[${i}].ascending' supplied: expected a boolean`);
        }
        return { fieldName, ascending: order.ascending !== false };
      }),
      pageToken: optionalString(body, 'page_token'),
    });
    return { models: page.models.map(loggedModelJson), ...nextPage(page.nextPageToken) };
  }

  @Get('logged-models/:model_id')
  async get(@Param('model_id') modelId: string, @Query() query: Message) {
    const allowDeleted = String(query.allow_deleted ?? 'false').toLowerCase() === 'true';
    return { model: loggedModelJson(await this.models.get(modelId, allowDeleted)) };
  }

  @Patch('logged-models/:model_id')
  async finalize(@Param('model_id') modelId: string, @Body() raw: unknown) {
    const body = message(raw);
    if (body.status === undefined || body.status === null) throw invalid("Missing value for required parameter 'status'.");
    return { model: loggedModelJson(await this.models.finalize(modelId, parseLoggedModelStatus(body.status))) };
  }

  @Delete('logged-models/:model_id')
  async delete(@Param('model_id') modelId: string) {
    await this.models.delete(modelId);
    return {};
  }

  @Post('logged-models/:model_id/params')
  @HttpCode(200)
  async logParams(@Param('model_id') modelId: string, @Body() raw: unknown) {
    await this.models.logParams(modelId, keyValues(message(raw), 'params'));
    return {};
  }

  @Patch('logged-models/:model_id/tags')
  async setTags(@Param('model_id') modelId: string, @Body() raw: unknown) {
    await this.models.setTags(modelId, keyValues(message(raw), 'tags'));
    return {};
  }

  /** Tag keys may hold slashes; the client puts them in the path as they are. */
  @Delete('logged-models/:model_id/tags/*tag_key')
  async deleteTag(@Param('model_id') modelId: string, @Param('tag_key') tagKey: string | string[]) {
    await this.models.deleteTag(modelId, Array.isArray(tagKey) ? tagKey.join('/') : tagKey);
    return {};
  }

  @Get('logged-models/:model_id/artifacts/directories')
  async listArtifacts(@Param('model_id') modelId: string, @Query() query: Message) {
    const listing = await this.models.listArtifacts(modelId, optionalString(query, 'artifact_directory_path'));
    return { root_uri: listing.rootUri, files: listing.files };
  }
}

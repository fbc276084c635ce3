import { Body, Controller, Delete, Get, HttpCode, Inject, Post, Query } from '@nestjs/common';
import { parseSignature } from '../onnx/onnx-model';
import { RegistryService } from '../registry.service';
import { keyValues, message, metricsOf, optionalInt, optionalString, requiredScalar, requiredString, type Message } from './request';
import { REGISTRY_SERVICE } from './tokens';

/** MLflow's model registry REST API (model_registry.proto), the routes that fit this store. */
@Controller(['api/2.0/mlflow', 'ajax-api/2.0/mlflow'])
export class MlflowRegistryController {
  constructor(@Inject(REGISTRY_SERVICE) private readonly registry: RegistryService) {}

  @Post('registered-models/create')
  @HttpCode(200)
  async createModel(@Body() raw: unknown) {
    const body = message(raw);
    const model = await this.registry.createRegisteredModel(requiredString(body, 'name'), optionalString(body, 'description') ?? '', keyValues(body, 'tags'));
    return { registered_model: model };
  }

  @Get('registered-models/get')
  async getModel(@Query() query: Message) {
    return { registered_model: await this.registry.getRegisteredModel(requiredString(query, 'name')) };
  }

  @Get('registered-models/search')
  searchModelsGet(@Query() query: Message) {
    return this.searchModels(query);
  }

  @Post('registered-models/search')
  @HttpCode(200)
  searchModels(@Body() raw: unknown) {
    const body = message(raw);
    return this.registry.searchRegisteredModels(optionalString(body, 'filter'), optionalInt(body, 'max_results'));
  }

  @Post('model-versions/create')
  @HttpCode(200)
  async createVersion(@Body() raw: unknown) {
    const body = message(raw);
    const version = await this.registry.createVersionFromSource({
      name: requiredString(body, 'name'),
      source: requiredString(body, 'source'),
      runId: optionalString(body, 'run_id'),
      description: optionalString(body, 'description'),
      tags: keyValues(body, 'tags'),
      declared: body.signature === undefined ? undefined : parseSignature(body.signature),
      metrics: metricsOf(body.metrics, 'metrics'),
    });
    return { model_version: version };
  }

  @Get('model-versions/get')
  async getVersion(@Query() query: Message) {
    return { model_version: await this.registry.getVersion(requiredString(query, 'name'), requiredScalar(query, 'version')) };
  }

  @Get('model-versions/search')
  searchVersionsGet(@Query() query: Message) {
    return this.searchVersions(query);
  }

  @Post('model-versions/search')
  @HttpCode(200)
  searchVersions(@Body() raw: unknown) {
    const body = message(raw);
    return this.registry.searchVersions(optionalString(body, 'filter'), optionalInt(body, 'max_results'));
  }

  @Post('registered-models/alias')
  @HttpCode(200)
  async setAlias(@Body() raw: unknown) {
    const body = message(raw);
    await this.registry.setAlias(requiredString(body, 'name'), requiredString(body, 'alias'), requiredScalar(body, 'version'));
    return {};
  }

  /** MLflow's client sends the DELETE parameters in the query string (or a JSON body). */
  @Delete('registered-models/alias')
  async deleteAlias(@Query() query: Message, @Body() raw: unknown) {
    const body = { ...message(raw), ...query };
    await this.registry.deleteAlias(requiredString(body, 'name'), requiredString(body, 'alias'));
    return {};
  }

  @Get('registered-models/alias')
  async getByAlias(@Query() query: Message) {
    return { model_version: await this.registry.getByAlias(requiredString(query, 'name'), requiredString(query, 'alias')) };
  }
}

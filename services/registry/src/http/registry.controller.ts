import { Body, Controller, Delete, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ModelAliases } from '../aliases/model-aliases';
import { ModelCatalog } from '../catalog/model-catalog';
import { VersionRegistrar } from '../catalog/version-registrar';
import { parseSignature } from '../onnx/onnx-model';
import { keyValues, message, metricsOf, optionalInt, optionalString, requiredScalar, requiredString, type Message } from './request';

/** MLflow's model registry REST API (model_registry.proto), the routes that fit this store. */
@Controller(['api/2.0/mlflow', 'ajax-api/2.0/mlflow'])
export class MlflowRegistryController {
  constructor(
    private readonly catalog: ModelCatalog,
    private readonly registrar: VersionRegistrar,
    private readonly aliases: ModelAliases,
  ) {}

  @Post('registered-models/create')
  @HttpCode(200)
  async createModel(@Body() raw: unknown) {
    const body = message(raw);
    const model = await this.catalog.createRegisteredModel(requiredString(body, 'name'), optionalString(body, 'description') ?? '', keyValues(body, 'tags'));
    return { registered_model: model };
  }

  @Get('registered-models/get')
  async getModel(@Query() query: Message) {
    return { registered_model: await this.catalog.getRegisteredModel(requiredString(query, 'name')) };
  }

  @Get('registered-models/search')
  searchModelsGet(@Query() query: Message) {
    return this.searchModels(query);
  }

  @Post('registered-models/search')
  @HttpCode(200)
  searchModels(@Body() raw: unknown) {
    const body = message(raw);
    return this.catalog.searchRegisteredModels(optionalString(body, 'filter'), optionalInt(body, 'max_results'));
  }

  @Post('model-versions/create')
  @HttpCode(200)
  async createVersion(@Body() raw: unknown) {
    const body = message(raw);
    const version = await this.registrar.createVersionFromSource({
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
    return { model_version: await this.catalog.getVersion(requiredString(query, 'name'), requiredScalar(query, 'version')) };
  }

  @Get('model-versions/search')
  searchVersionsGet(@Query() query: Message) {
    return this.searchVersions(query);
  }

  @Post('model-versions/search')
  @HttpCode(200)
  searchVersions(@Body() raw: unknown) {
    const body = message(raw);
    return this.catalog.searchVersions(optionalString(body, 'filter'), optionalInt(body, 'max_results'));
  }

  @Post('registered-models/alias')
  @HttpCode(200)
  async setAlias(@Body() raw: unknown) {
    const body = message(raw);
    await this.aliases.setAlias(requiredString(body, 'name'), requiredString(body, 'alias'), requiredScalar(body, 'version'));
    return {};
  }

  /** MLflow's client sends the DELETE parameters in the query string (or a JSON body). */
  @Delete('registered-models/alias')
  async deleteAlias(@Query() query: Message, @Body() raw: unknown) {
    const body = { ...message(raw), ...query };
    await this.aliases.deleteAlias(requiredString(body, 'name'), requiredString(body, 'alias'));
    return {};
  }

  @Get('registered-models/alias')
  async getByAlias(@Query() query: Message) {
    return { model_version: await this.aliases.getByAlias(requiredString(query, 'name'), requiredString(query, 'alias')) };
  }
}

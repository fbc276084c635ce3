import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Query } from '@nestjs/common';
import { ModelAliases } from '../aliases/model-aliases';
import { ModelStages } from '../aliases/model-stages';
import { CatalogEdits } from '../catalog/catalog-edits';
import { ModelCatalog } from '../catalog/model-catalog';
import { keyValues, message, orderByParam, optionalInt, optionalString, requiredScalar, requiredString, type Message } from './request';

/** A DELETE's parameters: MLflow's client sends a JSON body; curl users send a query string. */
const deleteParams = (query: Message, raw: unknown): Message => ({ ...message(raw), ...query });

/** MLflow's registry REST API (model_registry.proto): registered models, their tags, aliases and stages. */
@Controller(['api/2.0/mlflow', 'ajax-api/2.0/mlflow'])
export class RegisteredModelsController {
  constructor(
    private readonly catalog: ModelCatalog,
    private readonly edits: CatalogEdits,
    private readonly aliases: ModelAliases,
    private readonly stages: ModelStages,
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
    return this.catalog.searchRegisteredModels(optionalString(body, 'filter'), optionalInt(body, 'max_results'), optionalString(body, 'page_token'), orderByParam(body.order_by));
  }

  @Post('registered-models/rename')
  @HttpCode(200)
  async rename(@Body() raw: unknown) {
    const body = message(raw);
    return { registered_model: await this.edits.renameRegisteredModel(requiredString(body, 'name'), requiredString(body, 'new_name')) };
  }

  @Patch('registered-models/update')
  async update(@Body() raw: unknown) {
    const body = message(raw);
    return { registered_model: await this.edits.updateRegisteredModel(requiredString(body, 'name'), optionalString(body, 'description') ?? '') };
  }

  @Delete('registered-models/delete')
  async delete(@Query() query: Message, @Body() raw: unknown) {
    await this.edits.deleteRegisteredModel(requiredString(deleteParams(query, raw), 'name'));
    return {};
  }

  @Post('registered-models/set-tag')
  @HttpCode(200)
  async setTag(@Body() raw: unknown) {
    const body = message(raw);
    await this.edits.setModelTag(requiredString(body, 'name'), requiredString(body, 'key'), body.value === undefined ? '' : String(body.value));
    return {};
  }

  @Delete('registered-models/delete-tag')
  async deleteTag(@Query() query: Message, @Body() raw: unknown) {
    const body = deleteParams(query, raw);
    await this.edits.deleteModelTag(requiredString(body, 'name'), requiredString(body, 'key'));
    return {};
  }

  @Post('registered-models/get-latest-versions')
  @HttpCode(200)
  latestVersions(@Body() raw: unknown) {
    const body = message(raw);
    return this.stages.latestVersions(requiredString(body, 'name'), body.stages);
  }

  /** Older clients send get-latest-versions as a GET (`stages` repeated in the query). */
  @Get('registered-models/get-latest-versions')
  latestVersionsGet(@Query() query: Message) {
    const stages = query.stages === undefined ? undefined : ([] as unknown[]).concat(query.stages);
    return this.stages.latestVersions(requiredString(query, 'name'), stages);
  }

  @Post('registered-models/alias')
  @HttpCode(200)
  async setAlias(@Body() raw: unknown) {
    const body = message(raw);
    await this.aliases.setAlias(requiredString(body, 'name'), requiredString(body, 'alias'), requiredScalar(body, 'version'));
    return {};
  }

  @Delete('registered-models/alias')
  async deleteAlias(@Query() query: Message, @Body() raw: unknown) {
    const body = deleteParams(query, raw);
    await this.aliases.deleteAlias(requiredString(body, 'name'), requiredString(body, 'alias'));
    return {};
  }

  @Get('registered-models/alias')
  async getByAlias(@Query() query: Message) {
    return { model_version: await this.aliases.getByAlias(requiredString(query, 'name'), requiredString(query, 'alias')) };
  }
}

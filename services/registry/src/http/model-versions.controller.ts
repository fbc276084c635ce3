import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Query } from '@nestjs/common';
import { invalid } from '@mlops/http';
import { ModelStages } from '../aliases/model-stages';
import { CatalogEdits } from '../catalog/catalog-edits';
import { ModelCatalog } from '../catalog/model-catalog';
import { VersionRegistrar } from '../catalog/version-registrar';
import { parseSignature } from '../onnx/onnx-model';
import { isTrackedSource } from '../tracking/model-source';
import { TrackedRegistration } from '../tracking/tracked-registration';
import { keyValues, message, orderByParam, metricsOf, optionalInt, optionalString, requiredScalar, requiredString, type Message } from './request';

const deleteParams = (query: Message, raw: unknown): Message => ({ ...message(raw), ...query });

/** protobuf JSON booleans: true/false, or "true"/"false" in a query string. */
function optionalBoolean(body: Message, field: string): boolean {
  const value = body[field];
  if (value === undefined || value === null || value === '') return false;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw invalid(`Invalid value ${JSON.stringify(value)} for parameter '${field}' supplied: expected true or false`);
}

/** MLflow's registry REST API (model_registry.proto): model versions. */
@Controller(['api/2.0/mlflow', 'ajax-api/2.0/mlflow'])
export class ModelVersionsController {
  constructor(
    private readonly catalog: ModelCatalog,
    private readonly registrar: VersionRegistrar,
    private readonly tracked: TrackedRegistration,
    private readonly edits: CatalogEdits,
    private readonly stages: ModelStages,
  ) {}

  /**
   * `source` is `runs:/<run_id>/<path>`, `models:/<model_id>`, `models:/<name>/<version>` or
   * `mlflow-artifacts:/...` (read from the tracking server), or a file under REGISTRY_IMPORT_ROOTS.
   */
  @Post('model-versions/create')
  @HttpCode(200)
  async createVersion(@Body() raw: unknown) {
    const body = message(raw);
    const request = {
      name: requiredString(body, 'name'),
      source: requiredString(body, 'source'),
      runId: optionalString(body, 'run_id'),
      description: optionalString(body, 'description'),
      tags: keyValues(body, 'tags'),
      declared: body.signature === undefined ? undefined : parseSignature(body.signature),
      metrics: metricsOf(body.metrics, 'metrics'),
    };
    const version = isTrackedSource(request.source)
      ? await this.tracked.create({ ...request, modelId: optionalString(body, 'model_id') })
      : await this.registrar.createVersionFromSource(request);
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
    return this.catalog.searchVersions(optionalString(body, 'filter'), optionalInt(body, 'max_results'), optionalString(body, 'page_token'), orderByParam(body.order_by));
  }

  @Patch('model-versions/update')
  async update(@Body() raw: unknown) {
    const body = message(raw);
    return { model_version: await this.edits.updateModelVersion(requiredString(body, 'name'), requiredScalar(body, 'version'), optionalString(body, 'description') ?? '') };
  }

  @Delete('model-versions/delete')
  async delete(@Query() query: Message, @Body() raw: unknown) {
    const body = deleteParams(query, raw);
    await this.edits.deleteModelVersion(requiredString(body, 'name'), requiredScalar(body, 'version'));
    return {};
  }

  /** Deprecated in MLflow; stages map onto aliases (Production = champion, Staging = challenger). */
  @Post('model-versions/transition-stage')
  @HttpCode(200)
  async transition(@Body() raw: unknown) {
    const body = message(raw);
    const version = await this.stages.transition(
      requiredString(body, 'name'),
      requiredScalar(body, 'version'),
      requiredString(body, 'stage'),
      optionalBoolean(body, 'archive_existing_versions'),
    );
    return { model_version: version };
  }

  /** Where the client downloads the version's files: the tracking server's artifact location. */
  @Get('model-versions/get-download-uri')
  async downloadUri(@Query() query: Message) {
    const version = await this.catalog.getVersion(requiredString(query, 'name'), requiredScalar(query, 'version'));
    return { artifact_uri: version.storage_location };
  }

  @Post('model-versions/set-tag')
  @HttpCode(200)
  async setTag(@Body() raw: unknown) {
    const body = message(raw);
    await this.edits.setVersionTag(requiredString(body, 'name'), requiredScalar(body, 'version'), requiredString(body, 'key'), body.value === undefined ? '' : String(body.value));
    return {};
  }

  @Delete('model-versions/delete-tag')
  async deleteTag(@Query() query: Message, @Body() raw: unknown) {
    const body = deleteParams(query, raw);
    await this.edits.deleteVersionTag(requiredString(body, 'name'), requiredScalar(body, 'version'), requiredString(body, 'key'));
    return {};
  }
}

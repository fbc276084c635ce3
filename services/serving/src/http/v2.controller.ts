import type { IncomingMessage, ServerResponse } from 'node:http';
import { Controller, Get, HttpCode, Inject, Param, Post, Req, Res } from '@nestjs/common';
import { injectTraceContext } from '@mlops/telemetry';
import { SERVER_EXTENSIONS } from '../grpc-server';
import { InferenceServer } from '../inference-server';
import { InferenceService } from '../inference.service';
import { modelConfigOf } from '../model-config';
import { ModelNotFoundError, ModelRepository } from '../model-repository';
import { ModelStatistics } from '../model-statistics';
import { loadRequestOf, RepositoryControl } from '../repository-control.service';
import { SERVING_SETTINGS, type ServingSettings } from '../serving.settings';
import { statisticsReport } from '../statistics-report';
import { invalid } from '../tensors';
import { readBody } from './request-body';
import { HEADER_LENGTH, readInferRequest, writeInferResponse } from './v2-codec';
import { sendV2Error } from './v2-errors';

type Reply = ServerResponse & { status(code: number): Reply; json(body: unknown): void };

/**
 * The KServe v2 REST protocol (Open Inference Protocol) with Triton's binary tensor data,
 * statistics, model configuration and model repository extensions: the same models, inference
 * path (batcher, canary routing, prediction log, statistics) and repository control as gRPC.
 * Routes are relative (`v2/...`), so the server works mounted under a prefix.
 */
@Controller('v2')
export class V2Controller {
  constructor(
    @Inject(SERVING_SETTINGS) private readonly settings: ServingSettings,
    private readonly server: InferenceServer,
    private readonly repository: ModelRepository,
    private readonly inference: InferenceService,
    private readonly statistics: ModelStatistics,
    private readonly control: RepositoryControl,
  ) {}

  @Get()
  metadata() {
    return { name: this.server.info.name, version: this.server.info.version, extensions: [...SERVER_EXTENSIONS] };
  }

  @Get('health/live')
  live() {
    return { live: true };
  }

  @Get('health/ready')
  ready(@Res() res: Reply): void {
    const ready = this.server.info.ready();
    res.status(ready ? 200 : 503).json({ ready });
  }

  // Before models/:model, which "stats" would otherwise match.
  @Get('models/stats')
  allStatistics() {
    return statisticsReport(this.repository, this.statistics, '', '');
  }

  @Get('models/:model')
  modelMetadata(@Param('model') model: string) {
    return this.describe(model, '');
  }

  @Get('models/:model/versions/:version')
  versionMetadata(@Param('model') model: string, @Param('version') version: string) {
    return this.describe(model, version);
  }

  @Get('models/:model/ready')
  modelReady(@Param('model') model: string, @Res() res: Reply): void {
    this.answerReady(model, '', res);
  }

  @Get('models/:model/versions/:version/ready')
  versionReady(@Param('model') model: string, @Param('version') version: string, @Res() res: Reply): void {
    this.answerReady(model, version, res);
  }

  @Get('models/:model/config')
  modelConfig(@Param('model') model: string) {
    return modelConfigOf(this.repository.resolve(model, ''), this.settings.batching);
  }

  @Get('models/:model/versions/:version/config')
  versionConfig(@Param('model') model: string, @Param('version') version: string) {
    return modelConfigOf(this.repository.resolve(model, version), this.settings.batching);
  }

  @Get('models/:model/stats')
  modelStatistics(@Param('model') model: string) {
    return statisticsReport(this.repository, this.statistics, model, '');
  }

  @Get('models/:model/versions/:version/stats')
  versionStatistics(@Param('model') model: string, @Param('version') version: string) {
    return statisticsReport(this.repository, this.statistics, model, version);
  }

  @Post('models/:model/infer')
  async infer(@Param('model') model: string, @Req() req: IncomingMessage, @Res() res: Reply): Promise<void> {
    await this.answerInfer(model, '', req, res);
  }

  @Post('models/:model/versions/:version/infer')
  async inferVersion(@Param('model') model: string, @Param('version') version: string, @Req() req: IncomingMessage, @Res() res: Reply): Promise<void> {
    await this.answerInfer(model, version, req, res);
  }

  @Post('repository/index')
  @HttpCode(200)
  async repositoryIndex(@Req() req: IncomingMessage) {
    const body = await this.jsonBody(req);
    return this.control.index(body.ready === true);
  }

  @Post('repository/models/:model/load')
  @HttpCode(200)
  async load(@Param('model') model: string, @Req() req: IncomingMessage) {
    const body = await this.jsonBody(req);
    const parameters = body.parameters ?? {};
    if (typeof parameters !== 'object' || parameters === null || Array.isArray(parameters)) throw invalid('parameters must be an object');
    await this.control.load(model, loadRequestOf(parameters as Record<string, unknown>));
    return {};
  }

  @Post('repository/models/:model/unload')
  @HttpCode(200)
  async unload(@Param('model') model: string, @Req() req: IncomingMessage) {
    await this.jsonBody(req);
    this.control.unload(model);
    return {};
  }

  private describe(name: string, version: string) {
    const model = this.repository.resolve(name, version);
    const tensors = (list: typeof model.inputs) => list.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape }));
    return {
      name: model.name,
      versions: this.repository.versions(model.name).map(String),
      platform: model.platform,
      inputs: tensors(model.inputs),
      outputs: tensors(model.outputs),
      // Not in the v2 metadata, which names tensors, not their columns.
      ...(model.naming.names ? { parameters: { feature_names: model.naming.names } } : {}),
    };
  }

  private answerReady(name: string, version: string, res: Reply): void {
    try {
      this.repository.resolve(name, version);
      res.status(200).json({ name, ...(version ? { version } : {}), ready: true });
    } catch (error) {
      if (!(error instanceof ModelNotFoundError)) throw error;
      sendV2Error(res, 404, error.message);
    }
  }

  private async answerInfer(model: string, version: string, req: IncomingMessage, res: Reply): Promise<void> {
    const body = await readBody(req, this.settings.grpc.maxMessageBytes);
    const headerLength = req.headers[HEADER_LENGTH];
    const request = readInferRequest(body, Array.isArray(headerLength) ? headerLength[0] : headerLength, model, version);
    const traceparent = injectTraceContext({}).traceparent;
    const { body: out, headerLength: jsonLength } = await this.inference.infer(request.message, (outcome) => writeInferResponse(outcome, request), traceparent);
    res.statusCode = 200;
    if (jsonLength === undefined) {
      res.setHeader('content-type', 'application/json');
    } else {
      res.setHeader('content-type', 'application/octet-stream');
      res.setHeader('Inference-Header-Content-Length', String(jsonLength));
    }
    res.setHeader('content-length', String(out.length));
    res.end(out);
  }

  /** A small JSON body (repository requests); empty means `{}`. */
  private async jsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
    const body = await readBody(req, 1024 * 1024);
    if (body.length === 0) return {};
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch (error) {
      throw invalid(`request body is not JSON: ${(error as Error).message}`);
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) throw invalid('request body must be a JSON object');
    return json as Record<string, unknown>;
  }
}

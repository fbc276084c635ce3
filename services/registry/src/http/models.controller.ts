import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query } from '@nestjs/common';
import { invalid, invalidFields } from '@mlops/http';
import { z } from 'zod';
import { ModelAliases } from '../aliases/model-aliases';
import { Lineage } from '../catalog/lineage';
import { ModelCatalog } from '../catalog/model-catalog';
import { VersionRegistrar } from '../catalog/version-registrar';
import { Deployments } from '../deployments/deployments';
import { QualityGate } from '../gate/quality-gate';
import { parseSignature } from '../onnx/onnx-model';
import { message, metricsOf, optionalString, requiredScalar, type Message } from './request';

/** A query parameter, or the `x-mlops-<name>` header (dashes for underscores). */
function field(query: Message, headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const fromQuery = optionalString(query, name);
  if (fromQuery !== undefined) return fromQuery;
  const header = headers[`x-mlops-${name.replace(/_/g, '-')}`];
  return Array.isArray(header) ? header[0] : header || undefined;
}

/** POST /models/:name/deploy: `share` (0 < share < 1) only and always with a canary or A/B test; `labels` only with A/B. */
const deployBody = z
  .object({
    version: z.number().int().positive(),
    strategy: z.enum(['full', 'canary', 'shadow', 'blue-green', 'ab']),
    share: z.number().gt(0).lt(1).optional(),
    labels: z.number().int().positive().optional(),
  })
  .strict()
  .superRefine((body, ctx) => {
    const split = body.strategy === 'canary' || body.strategy === 'ab';
    if (split && body.share === undefined) ctx.addIssue({ code: 'custom', path: ['share'], message: `required with strategy "${body.strategy}": the traffic share, 0 < share < 1` });
    if (!split && body.share !== undefined) ctx.addIssue({ code: 'custom', path: ['share'], message: `only with strategy "canary" or "ab": ${body.strategy === 'shadow' ? 'a shadow gets a copy of all traffic and answers none of it' : `a ${body.strategy} rollout takes all traffic`}` });
    if (body.strategy !== 'ab' && body.labels !== undefined) ctx.addIssue({ code: 'custom', path: ['labels'], message: 'only with strategy "ab": the labels each side needs before the significance test' });
  });

/** The registry's own routes: raw ONNX upload, the gate, promotion/rollback and lineage. */
@Controller()
export class ModelsController {
  constructor(
    private readonly catalog: ModelCatalog,
    private readonly registrar: VersionRegistrar,
    private readonly aliases: ModelAliases,
    private readonly gates: QualityGate,
    private readonly lineages: Lineage,
    private readonly deployments: Deployments,
  ) {}

  /**
   * POST /models/:name/versions with the ONNX bytes as application/octet-stream. Lineage and
   * the declared signature come as query parameters (run_id, dataset_id, dataset_hash,
   * code_version, signature, metrics) or `x-mlops-*` headers.
   */
  @Post('models/:name/versions')
  @HttpCode(201)
  async upload(
    @Param('name') name: string,
    @Body() body: unknown,
    @Query() query: Message,
    @Headers() headers: Record<string, string | string[] | undefined>,
  ) {
    if (!Buffer.isBuffer(body)) throw invalid('send the ONNX model as the request body with content-type application/octet-stream');
    const signature = field(query, headers, 'signature');
    const version = await this.registrar.registerVersion({
      name,
      bytes: body,
      source: 'upload',
      runId: field(query, headers, 'run_id'),
      datasetId: field(query, headers, 'dataset_id'),
      datasetHash: field(query, headers, 'dataset_hash'),
      codeVersion: field(query, headers, 'code_version'),
      declared: signature === undefined ? undefined : parseSignature(signature),
      metrics: metricsOf(field(query, headers, 'metrics'), 'metrics'),
    });
    return { model_version: version };
  }

  @Get('models/:name/versions/:version')
  async version(@Param('name') name: string, @Param('version') version: string) {
    return { model_version: await this.catalog.getVersion(name, version) };
  }

  @Get('models/:name/versions/:version/gate')
  gate(@Param('name') name: string, @Param('version') version: string) {
    return this.gates.gateDecision(name, version);
  }

  @Get('models/:name/versions/:version/lineage')
  lineage(@Param('name') name: string, @Param('version') version: string) {
    return this.lineages.lineage(name, version);
  }

  /** Promotes a version serving has loaded (409 saying how to deploy it otherwise). */
  @Post('models/:name/promote')
  @HttpCode(200)
  promote(@Param('name') name: string, @Body() raw: unknown) {
    const body = message(raw);
    return this.deployments.promote(name, requiredScalar(body, 'version'), optionalString(body, 'reason') ?? 'promoted');
  }

  /** Deploys a version (full, canary, shadow, blue-green or ab) through deployment.requested; 202 with the correlation id to follow. */
  @Post('models/:name/deploy')
  @HttpCode(202)
  deploy(@Param('name') name: string, @Body() raw: unknown) {
    const parsed = deployBody.safeParse(raw);
    if (!parsed.success) throw invalidFields(parsed.error.issues.map((i) => ({ field: i.path.join('.') || '(body)', message: i.message })));
    const { version, strategy, share, labels } = parsed.data;
    if (strategy === 'canary') return this.deployments.deploy(name, version, { strategy, share: share! });
    if (strategy === 'ab') return this.deployments.deploy(name, version, { strategy, share: share!, labels });
    return this.deployments.deploy(name, version, { strategy });
  }

  @Post('models/:name/rollback')
  @HttpCode(200)
  rollback(@Param('name') name: string, @Body() raw: unknown) {
    return this.aliases.rollback(name, message(raw).reason);
  }

  @Get('lineage/datasets/:hash')
  datasetLineage(@Param('hash') hash: string) {
    return this.lineages.datasetLineage(hash);
  }
}

import { Controller, Get, HttpCode, Put, Query, Req, Res } from '@nestjs/common';
import type { Readable, Writable } from 'node:stream';
import { ApiOkResponse } from '@nestjs/swagger';
import { invalid } from '@mlops/http';
import { ArtifactStore } from '../artifacts/artifact-store';
import { optionalString, type Message } from './request';

/** The parts of Express's request and response these routes use (no @types/express here). */
type Request = Readable & { path: string };
type Response = Writable & { status(code: number): Response; set(headers: Record<string, string>): Response };

const PREFIX = /^\/(?:ajax-)?api\/2\.0\/mlflow-artifacts\/artifacts\//;

/** The artifact path after the route prefix, each segment percent-decoded. */
function artifactPath(request: Request): string {
  const raw = request.path.replace(PREFIX, '');
  try {
    return raw.split('/').map(decodeURIComponent).join('/');
  } catch {
    throw invalid(`invalid artifact path "${raw}"`);
  }
}

/**
 * MLflow's artifact proxy (`mlflow-artifacts:/` URIs): clients PUT and GET artifact files
 * through the tracking server, which keeps them under TRACKING_ARTIFACT_ROOT.
 */
@Controller(['api/2.0/mlflow-artifacts', 'ajax-api/2.0/mlflow-artifacts'])
export class ArtifactsController {
  constructor(private readonly artifacts: ArtifactStore) {}

  @Get('artifacts')
  async list(@Query() query: Message) {
    const files = await this.artifacts.list(optionalString(query, 'path') ?? '');
    return { files };
  }

  @Put('artifacts/*path')
  @HttpCode(200)
  async upload(@Req() request: Request) {
    await this.artifacts.put(artifactPath(request), request);
    return {};
  }

  @Get('artifacts/*path')
  @ApiOkResponse({ description: 'the file', content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } })
  async download(@Req() request: Request, @Res() response: Response) {
    const { stream, size } = await this.artifacts.open(artifactPath(request));
    response.status(200).set({ 'content-type': 'application/octet-stream', 'content-length': String(size) });
    stream.pipe(response);
  }
}

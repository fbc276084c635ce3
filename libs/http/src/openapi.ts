import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { ERROR_STATUS } from './api-error';

type Operation = NonNullable<OpenAPIObject['paths'][string]['get']>;

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

/** The body of every error answer: `{error_code, message, issues?}`. */
export const API_ERROR_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['error_code', 'message'],
  properties: {
    error_code: { type: 'string', enum: [...new Set(Object.keys(ERROR_STATUS))] },
    message: { type: 'string' },
    issues: {
      type: 'array',
      items: { type: 'object', required: ['field', 'message'], properties: { field: { type: 'string' }, message: { type: 'string' } } },
    },
  },
};

/** The client errors any route may answer; a 5xx is never documented, so a fuzzer flags it. */
const ERROR_ANSWERS: Record<string, string> = {
  '400': 'invalid input: the message names the field and what was expected',
  '401': 'missing or wrong bearer token (when the service has API_TOKEN)',
  '404': 'no such resource or route',
  '413': 'body over the service limit',
  '415': 'unsupported content type',
};

const jsonError = (description: string, schema: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: `#/components/schemas/${schema}` } } },
});

/**
 * Routes whose shape Nest knows (controllers, methods, path parameters) as an OpenAPI 3
 * document, completed with what every route shares: the error answers in the
 * `{error_code, message}` shape, the bearer scheme, and any JSON body for writes
 * whose handler parses its own body (the handler says what it expected).
 */
export interface OpenApiInfo {
  service: string;
  version?: string;
  description?: string;
  /** The body of the service's error answers, when not `{error_code, message}` (e.g. the v2 inference protocol's `{error}`). */
  error?: { name: string; schema: SchemaObject };
}

export function buildOpenApiDocument(app: INestApplication, info: OpenApiInfo): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle(`mlops ${info.service}`)
    .setDescription(info.description ?? `HTTP API of the ${info.service} service`)
    .setVersion(info.version ?? '1')
    .addBearerAuth()
    .build();
  const document = SwaggerModule.createDocument(app, config, { operationIdFactory: (controller, method) => `${controller}_${method}` });
  const error = info.error ?? { name: 'ApiError', schema: API_ERROR_SCHEMA };
  document.components = { ...document.components, schemas: { ...document.components?.schemas, [error.name]: error.schema } };
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method] as Operation | undefined;
      if (!operation) continue;
      declarePathParameters(operation, path);
      completeOperation(operation, method, error.name);
    }
  }
  return document;
}

/** Wildcard routes (`*path`) reach the document as `{path}` without a declared parameter. */
function declarePathParameters(operation: Operation, path: string): void {
  const declared = new Set((operation.parameters ?? []).map((p) => ('name' in p ? `${p.in}:${p.name}` : '')));
  for (const [, name] of path.matchAll(/\{([^}]+)\}/g)) {
    if (declared.has(`path:${name}`)) continue;
    operation.parameters = [...(operation.parameters ?? []), { name, in: 'path', required: true, schema: { type: 'string' } }];
  }
}

function completeOperation(operation: Operation, method: (typeof METHODS)[number], errorSchema: string): void {
  operation.security = [{ bearer: [] }, {}];
  const responses = operation.responses as Record<string, unknown>;
  for (const [status, description] of Object.entries(ERROR_ANSWERS)) responses[status] ??= jsonError(description, errorSchema);
  for (const status of Object.keys(responses)) {
    const answer = responses[status] as { description?: string; content?: unknown };
    if (/^2/.test(status) && !answer.content) {
      // Any JSON: a route that declares no type may answer an object or a list (Triton's repository index).
      responses[status] = { description: answer.description || 'OK', content: { 'application/json': { schema: {} } } };
    }
  }
  if ((method === 'post' || method === 'put' || method === 'patch') && !operation.requestBody) {
    operation.requestBody = { required: false, content: { 'application/json': { schema: {} } } };
  }
}

/**
 * Serves the document at GET /openapi.json (built at the first request, when every
 * controller is registered). Like the probes, it needs no bearer token.
 */
export function serveOpenApiDocument(app: INestApplication, info: OpenApiInfo): void {
  let document: OpenAPIObject | undefined;
  const adapter = app.getHttpAdapter();
  adapter.get('/openapi.json', (_request: unknown, response: { json(body: unknown): void }) => {
    document ??= buildOpenApiDocument(app, info);
    response.json(document);
  });
}

export * from './api-error';
export * from './api-error.filter';
export * from './bearer-token';
export * from './http-tracing.interceptor';
export * from './configure-http-app';
export * from './health.controller';
export * from './openapi';
export * from './serve-http-app';

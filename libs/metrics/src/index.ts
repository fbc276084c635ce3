export * from './registry';
export * from './http-metrics';
export * from './grpc-metrics';
export * from './consumer-lag';
export * from './model-version';
export * from './metrics-endpoint';

export * from './proto';
export * from './security';
export * from './grpc-status';

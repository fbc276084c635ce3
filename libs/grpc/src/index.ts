export * from './proto';
export * from './security';

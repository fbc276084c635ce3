export * from './sdk';
export * from './trace-headers';

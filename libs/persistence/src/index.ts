export * from './apply-once';
export * from './data-source';
export * from './processed-events';

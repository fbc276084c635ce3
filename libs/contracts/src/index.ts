export * from './envelope';
export * from './payloads';
export * from './topics';
export * from './prediction-tensors';
export * from './prediction-rows';
export * from './holdout-npy';

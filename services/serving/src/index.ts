export { startServing, type ServingApp } from './serving.app';
export { loadServingConfig, type ServingConfig } from './serving.config';

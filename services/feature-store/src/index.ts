export { startFeatureStore, type FeatureStoreApp } from './feature-store.app';
export { loadFeatureStoreConfig, type FeatureStoreConfig } from './feature-store.config';

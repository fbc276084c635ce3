import 'reflect-metadata';
import { runService } from '@mlops/runtime';
import { loadFeatureStoreConfig } from './feature-store.config';
import { startFeatureStore } from './feature-store.app';

runService('feature-store', () => loadFeatureStoreConfig(), (config) => startFeatureStore(config));

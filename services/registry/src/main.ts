import 'reflect-metadata';
import { runService } from '@mlops/runtime';
import { loadRegistryConfig } from './registry.config';
import { startRegistry } from './registry.app';

runService('registry', () => loadRegistryConfig(), (config) => startRegistry(config));

import 'reflect-metadata';
import { runService } from '@mlops/runtime';
import { startServing } from './serving.app';
import { loadServingConfig } from './serving.config';

runService('serving', () => loadServingConfig(), (config) => startServing(config));

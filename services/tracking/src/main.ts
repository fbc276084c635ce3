import 'reflect-metadata';
import { runService } from '@mlops/runtime';
import { loadTrackingConfig } from './tracking.config';
import { startTracking } from './tracking.app';

runService('tracking', () => loadTrackingConfig(), (config) => startTracking(config));

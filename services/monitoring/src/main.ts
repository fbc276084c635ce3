import 'reflect-metadata';
import { runService } from '@mlops/runtime';
import { loadMonitoringConfig } from './monitoring.config';
import { startMonitoring } from './monitoring.app';

runService('monitoring', () => loadMonitoringConfig(), (config) => startMonitoring(config));

import 'reflect-metadata';
import { runService } from '@mlops/runtime';
import { loadLoopConfig } from './loop.config';
import { startLoop } from './loop.app';

runService('loop', () => loadLoopConfig(), (config) => startLoop(config));

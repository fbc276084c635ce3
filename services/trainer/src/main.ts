import 'reflect-metadata';
import { runService } from '@mlops/runtime';
import { loadTrainerConfig } from './trainer.config';
import { startTrainer } from './trainer.app';

runService('trainer', () => loadTrainerConfig(), (config) => startTrainer(config));

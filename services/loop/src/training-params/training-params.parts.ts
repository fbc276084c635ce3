import { CreateLoopTrainingParams1765200000000 } from '../migrations/1765200000000-create-loop-training-params';
import { TrainingParams } from './model-training-params';
import { TrainingParamsController } from '../http/training-params.controller';
import { TrainingParamsEntity, TrainingParamsRepository } from './training-params.repository';

/** The training params of retrains, as LoopModule and startLoop list them. */
export const trainingParamsControllers = [TrainingParamsController];
export const trainingParamsProviders = [TrainingParamsRepository, TrainingParams];
export const trainingParamsEntities = [TrainingParamsEntity];
export const trainingParamsMigrations = [CreateLoopTrainingParams1765200000000];

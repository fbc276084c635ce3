export { startTrainer, type TrainerApp } from './trainer.app';
export { loadTrainerConfig, targetFor, type TrainerConfig } from './trainer.config';
export { TrainerService, type Job, type JobRequest } from './trainer.service';
export { trainLinear, predict, type TabularData, type TrainResult } from './builtin/linear-trainer';
export { readModel, type Signature, type TensorSpec } from './onnx/graph';
export { trainMlp, predictMlp, DEFAULT_MLP_PARAMS, type MlpParams, type MlpTrainResult } from './builtin/mlp-trainer';
export { seededRandom } from './builtin/random';

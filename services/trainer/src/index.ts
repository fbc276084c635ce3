export { startTrainer, type TrainerApp } from './trainer.app';
export { loadTrainerConfig, targetFor, type TrainerConfig } from './trainer.config';
export { TrainerService, type Job, type JobRequest } from './trainer.service';
export { trainLinear, predict, type TabularData, type TrainResult } from './builtin/linear-trainer';
export { readModel, type Signature, type TensorSpec } from './onnx/graph';

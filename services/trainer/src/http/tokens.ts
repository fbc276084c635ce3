export const TRAINER_SERVICE = Symbol('TrainerService');

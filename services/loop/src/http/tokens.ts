export const LOOP_SERVICE = Symbol('LoopService');

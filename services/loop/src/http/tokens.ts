export const LOOP_SERVICE = Symbol('LoopService');
export const DATA_SOURCE = Symbol('DataSource');

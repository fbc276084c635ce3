export { startLoop, type LoopApp } from './loop.app';
export { loadLoopConfig, type LoopConfig } from './loop.config';
export { LoopService, LOOP_EVENT_TYPES, GATE_REJECTED, type LoopDetail, type LoopStage, type LoopSummary } from './loop.service';
export type { LoopOutcome, LoopStatus } from './store/entities';

export { run, DEFAULT_URL } from './main';
export { EXIT } from './client';
export type { Io } from './context';

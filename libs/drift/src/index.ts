export * from './detector';
export * from './profile';
export * from './special';
export * from './statistics';

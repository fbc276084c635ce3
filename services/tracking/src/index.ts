export { startTracking, type TrackingApp } from './tracking.app';
export { loadTrackingConfig, type TrackingConfig } from './tracking.config';

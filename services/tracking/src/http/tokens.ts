export const TRACKING_SERVICE = Symbol('TrackingService');
export const DATA_SOURCE = Symbol('DataSource');

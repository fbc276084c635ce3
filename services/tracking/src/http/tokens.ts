export const TRACKING_SERVICE = Symbol('TrackingService');

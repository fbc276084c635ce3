export const FEATURE_STORE_SERVICE = Symbol('FeatureStoreService');
export const DATA_SOURCE = Symbol('DataSource');
export const EVENT_BUS = Symbol('EventBus');

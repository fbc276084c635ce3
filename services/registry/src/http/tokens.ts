export const REGISTRY_SERVICE = Symbol('RegistryService');
export const DATA_SOURCE = Symbol('DataSource');

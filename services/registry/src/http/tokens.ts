export const REGISTRY_SERVICE = Symbol('RegistryService');

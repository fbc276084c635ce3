export { startRegistry, type RegistryApp } from './registry.app';
export { loadRegistryConfig, type RegistryConfig } from './registry.config';

/** The service's name: the source of the events it publishes, its logger's context. */
export const SERVICE = 'feature-store';
/** Table prefix of the service's own tables. */
export const TABLE_PREFIX = 'feature_store';

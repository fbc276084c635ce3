/** The service's name: the source of the events it publishes and its logger's context. */
export const SERVICE = 'trainer';

export const INGESTION_SERVICE = Symbol('IngestionService');
export const INGESTION_CONFIG = Symbol('IngestionConfig');

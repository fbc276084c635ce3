import type { IngestionConfig } from './ingestion.config';

/** What ingestion's use cases read from the config, grouped by use case. */
export interface IngestionSettings {
  /** POST /sources/:source/records */
  records: { maxBatch: number };
  /** The raw.<source> consumer. */
  raw: { group: string };
}

/** Injection token of the IngestionSettings. */
export const INGESTION_SETTINGS = Symbol('IngestionSettings');

/** Injection token of the service's logger (log, warn, error). */
export const INGESTION_LOG = Symbol('IngestionLog');

export interface IngestionLog {
  log(message: string): void;
  error(message: string): void;
}

export function ingestionSettings(config: IngestionConfig): IngestionSettings {
  return {
    records: { maxBatch: config.INGESTION_MAX_BATCH },
    raw: { group: config.INGESTION_GROUP },
  };
}

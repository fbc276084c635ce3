import { EntitySchema } from 'typeorm';

/** One feature row per applied event: the view's values as of the event's time (full history). */
export interface FeatureRowRecord {
  view: string;
  eventId: string;
  entityKey: string;
  /** Epoch milliseconds (bigint: a string from Postgres, a number from SQLite). */
  eventTimeMs: string | number;
  /** JSON: features and aggregations as of eventTimeMs. */
  values: string;
  /** JSON: the aggregation inputs of this event, so later windows can be computed. */
  inputs: string;
  recordedAt: Date;
}

export const FeatureRowEntity = new EntitySchema<FeatureRowRecord>({
  name: 'FeatureStoreRow',
  tableName: 'feature_store_rows',
  columns: {
    view: { type: String, primary: true, length: 128 },
    eventId: { type: String, primary: true, length: 200, name: 'event_id' },
    entityKey: { type: String, length: 256, name: 'entity_key' },
    eventTimeMs: { type: 'bigint', name: 'event_time_ms' },
    values: { type: 'text' },
    inputs: { type: 'text' },
    recordedAt: { type: Date, name: 'recorded_at' },
  },
});

export interface DatasetRecord {
  view: string;
  version: number;
  hash: string;
  uri: string;
  rowCount: number;
  manifest: string;
  createdAt: Date;
}

/** Every materialized dataset snapshot: versioned per view, content-hashed. */
export const DatasetEntity = new EntitySchema<DatasetRecord>({
  name: 'FeatureStoreDataset',
  tableName: 'feature_store_datasets',
  columns: {
    view: { type: String, primary: true, length: 128 },
    version: { type: Number, primary: true },
    hash: { type: String, length: 64 },
    uri: { type: 'text' },
    rowCount: { type: Number, name: 'row_count' },
    manifest: { type: 'text' },
    createdAt: { type: Date, name: 'created_at' },
  },
});

export interface SourceRecordRecord {
  source: string;
  eventId: string;
  /** JSON: the data.validated record as received. */
  record: string;
  recordedAt: Date;
}

/** The records of the data.validated events applied, per source: what a new or changed view is backfilled from. */
export const SourceRecordEntity = new EntitySchema<SourceRecordRecord>({
  name: 'FeatureStoreSourceRecord',
  tableName: 'feature_store_source_records',
  columns: {
    source: { type: String, primary: true, length: 200 },
    eventId: { type: String, primary: true, length: 200, name: 'event_id' },
    record: { type: 'text' },
    recordedAt: { type: Date, name: 'recorded_at' },
  },
});

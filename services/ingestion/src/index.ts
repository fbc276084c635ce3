export { startIngestion, type IngestionApp } from './ingestion.app';
export { loadIngestionConfig, type IngestionConfig } from './ingestion.config';

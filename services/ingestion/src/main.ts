import 'reflect-metadata';
import { runService } from '@mlops/runtime';
import { loadIngestionConfig } from './ingestion.config';
import { startIngestion } from './ingestion.app';

runService('ingestion', () => loadIngestionConfig(), (config) => startIngestion(config));

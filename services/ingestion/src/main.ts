import 'reflect-metadata';
import { ConfigError } from '@mlops/config';
import { startTelemetry } from '@mlops/telemetry';
import { loadIngestionConfig } from './ingestion.config';
import { startIngestion } from './ingestion.app';

async function main(): Promise<void> {
  const telemetry = startTelemetry('ingestion');
  const config = loadIngestionConfig();
  const ingestion = await startIngestion(config);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`ingestion: ${signal}, draining`);
    await ingestion.close();
    await telemetry.shutdown();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

main().catch((error) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});

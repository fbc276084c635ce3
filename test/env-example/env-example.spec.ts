import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { featureStoreEnvSchema, loadFeatureStoreConfig } from '../../services/feature-store/src/feature-store.config';
import { ingestionEnvSchema, loadIngestionConfig } from '../../services/ingestion/src/ingestion.config';
import { loadLoopConfig, loopEnvSchema } from '../../services/loop/src/loop.config';
import { loadMonitoringConfig, monitoringEnvSchema } from '../../services/monitoring/src/monitoring.config';
import { loadRegistryConfig, registryEnvSchema } from '../../services/registry/src/registry.config';
import { loadServingConfig, servingEnvSchema } from '../../services/serving/src/serving.config';
import { loadTrackingConfig, trackingEnvSchema } from '../../services/tracking/src/tracking.config';
import { loadTrainerConfig, trainerEnvSchema } from '../../services/trainer/src/trainer.config';
import { docComments, envExample, schemaSources, WORKSPACE_ROOT, type ServiceEnv } from './env-example';

const SERVICES: ServiceEnv[] = [
  { service: 'ingestion', schema: ingestionEnvSchema, load: loadIngestionConfig },
  { service: 'feature-store', schema: featureStoreEnvSchema, load: loadFeatureStoreConfig },
  { service: 'tracking', schema: trackingEnvSchema, load: loadTrackingConfig },
  { service: 'trainer', schema: trainerEnvSchema, load: loadTrainerConfig },
  { service: 'registry', schema: registryEnvSchema, load: loadRegistryConfig },
  { service: 'serving', schema: servingEnvSchema, load: loadServingConfig },
  { service: 'monitoring', schema: monitoringEnvSchema, load: loadMonitoringConfig },
  { service: 'loop', schema: loopEnvSchema, load: loadLoopConfig },
];

// `npm run env:example` sets this to rewrite the files instead of comparing them.
const update = process.env.UPDATE_ENV_EXAMPLES === '1';

describe('.env.example of each service', () => {
  const docs = docComments(schemaSources());

  it.each(SERVICES.map((s) => [s.service, s] as const))('%s: matches its config schema', (service, env) => {
    const file = join(WORKSPACE_ROOT, 'services', service, '.env.example');
    const expected = envExample(env, docs);
    if (update) writeFileSync(file, expected);
    expect(existsSync(file), `${file} is missing: run npm run env:example`).toBe(true);
    expect(readFileSync(file, 'utf8'), `${file} is out of date: run npm run env:example`).toBe(expected);
  });

  it('lists every variable with its default, the Kafka ones only for BUS=kafka', () => {
    const text = envExample(SERVICES.find((s) => s.service === 'loop')!, docs);
    expect(text).toContain('# LOOP_PORT=3008');
    expect(text).toContain('# DATABASE_URL=sqlite:.mlops/loop.db');
    expect(text).toMatch(/# \(when BUS=kafka, required\)\n# KAFKA_BROKERS=\n/);
    expect(text).toContain('# BUS=in-process');
    expect(text).toContain('# After a loop of a model ends, its drift events are recorded as ignored for this long.');
  });
});

import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KafkaRawProducer } from '@mlops/bus';
import { createEvent } from '@mlops/contracts';
import { infraEnv } from '../infra/infra-env';
import { freePort, ServiceProcess, type ProcessExit } from './service-process';

/** Writes `<dir>/<source>.yaml`: one feature view named after `source`, keyed by user, one number. */
export function writeAmountView(dir: string, source: string): string {
  const file = join(dir, `${source}.yaml`);
  writeFileSync(
    file,
    `featureViews:
  - name: ${source}
    source: ${source}
    entityKey: user
    timestampField: ts
    features: [{ name: amount, field: amount, type: number }]
`,
  );
  return file;
}

export interface FeatureStoreOptions {
  /** Consumer group; instances of one view share it. Default `faults-<source>`. */
  group?: string;
  /** Stable across restarts, so a restarted instance fences its predecessor's transaction. */
  instanceId?: string;
}

/**
 * One feature-store process owning the view of `source` (writeAmountView), on real Kafka,
 * Postgres and Redis, and a way to count the view's history rows.
 */
export class FeatureStoreProcess {
  readonly group: string;
  readonly instanceId: string;
  private readonly ports = Promise.all([freePort(), freePort()]);
  private url = '';
  private process?: ServiceProcess;

  constructor(
    private readonly dir: string,
    readonly source: string,
    options: FeatureStoreOptions = {},
  ) {
    this.group = options.group ?? `faults-${source}`;
    this.instanceId = options.instanceId ?? `fs-${randomUUID()}`;
  }

  async start(): Promise<void> {
    const infra = infraEnv();
    const [http, grpc] = await this.ports;
    this.url = `http://127.0.0.1:${http}`;
    this.process = new ServiceProcess('feature-store', {
      BUS: 'kafka',
      KAFKA_BROKERS: infra.KAFKA_BROKERS,
      DATABASE_URL: infra.DATABASE_URL,
      ONLINE_STORE: 'redis',
      REDIS_URL: infra.REDIS_URL,
      REDIS_KEY_PREFIX: `faults-${this.source}`,
      FEATURE_VIEWS_FILE: join(this.dir, `${this.source}.yaml`),
      FEATURE_STORE_ARTIFACT_ROOT: join(this.dir, 'datasets'),
      FEATURE_STORE_HTTP_PORT: String(http),
      FEATURE_STORE_GRPC_PORT: String(grpc),
      FEATURE_STORE_GROUP: this.group,
      INSTANCE_ID: this.instanceId,
    });
    this.process.start();
    await this.process.waitUntilReady(`${this.url}/health/ready`, 90_000);
  }

  signal(signal: NodeJS.Signals): void {
    if (!this.process) throw new Error(`feature store ${this.instanceId} is not started`);
    this.process.signal(signal);
  }

  kill = (): Promise<void> => this.process?.kill() ?? Promise.resolve();
  stop = (): Promise<ProcessExit | undefined> => this.process?.stop() ?? Promise.resolve(undefined);
  output = (): string => this.process?.output.join('') ?? '';

  /** History rows of the view, counted by materializing it (what a training dataset would hold). */
  async rows(): Promise<number> {
    const response = await fetch(`${this.url}/datasets`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ featureView: this.source }) });
    if (!response.ok) throw new Error(`materialize: ${response.status} ${await response.text()}`);
    return ((await response.json()) as { rowCount: number }).rowCount;
  }
}

/**
 * Sends `total` distinct data.validated events of `source` (recordId r<i>) in batches of
 * `batch`, `pauseMs` apart; calls `onBatch` with the count acknowledged so far after each.
 * Resolves with how many Kafka acknowledged.
 */
export async function produceValidated(producer: KafkaRawProducer, source: string, total: number, batch: number, pauseMs: number, onBatch?: (sent: number) => Promise<void>): Promise<number> {
  let acknowledged = 0;
  for (let start = 0; start < total; start += batch) {
    const events = Array.from({ length: Math.min(batch, total - start) }, (_, k) => {
      const i = start + k;
      return createEvent('data.validated', {
        source: 'ingestion',
        subject: `u${i % 50}`,
        data: { source, recordId: `r${i}`, contractVersion: 1, record: { user: `u${i % 50}`, ts: Date.UTC(2026, 0, 1) + i * 1_000, amount: i } },
      });
    });
    await producer.send('data.validated', events.map((e) => ({ key: e.subject, value: JSON.stringify(e) })));
    acknowledged += events.length;
    await onBatch?.(acknowledged);
    await sleep(pauseMs);
  }
  return acknowledged;
}

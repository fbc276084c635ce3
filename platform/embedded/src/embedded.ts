import { setTimeout as sleep } from 'node:timers/promises';
import { EventBus, InProcessTransport } from '@mlops/bus';
import type { AnyEvent } from '@mlops/contracts';
import { loadIngestionConfig, startIngestion } from '@mlops/service-ingestion';

export interface EmbeddedOptions {
  /** Where SQLite files live (artifacts join them as services arrive). */
  dataDir: string;
  port: number;
  records: number;
  serve: boolean;
  print: (line: string) => void;
}

export interface EmbeddedSummary {
  produced: number;
  validated: number;
  rejected: number;
  rejectReasons: Record<string, number>;
}

/** A synthetic tabular stream with a known share of broken records. */
function syntheticRecord(i: number): Record<string, unknown> {
  const broken = i % 20 === 7;
  return {
    id: `txn-${i}`,
    customer: `c${i % 50}`,
    amount: broken ? -1 : Math.round(((i * 7919) % 10_000) / 10) / 10,
    channel: ['web', 'app', 'store'][i % 3],
    ts: new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString(),
  };
}

/**
 * Everything in one process: the in-process bus, SQLite, no servers. Today that is the
 * ingestion service fed by a synthetic stream; the other services join the same transport.
 */
export async function runEmbedded(options: EmbeddedOptions): Promise<EmbeddedSummary> {
  const transport = new InProcessTransport();
  const ingestion = await startIngestion(
    loadIngestionConfig({
      BUS: 'in-process',
      DATABASE_URL: `sqlite:${options.dataDir}/ingestion.db`,
      INGESTION_PORT: String(options.port),
    }),
    { inProcess: transport, logger: false },
  );
  options.print(`ingestion HTTP API on ${ingestion.url} (in-process bus, SQLite under ${options.dataDir})`);

  const summary: EmbeddedSummary = { produced: 0, validated: 0, rejected: 0, rejectReasons: {} };
  const observer = new EventBus(transport);
  const watch = await observer.subscribeEvents({
    group: 'embedded-summary',
    types: ['data.validated', 'data.rejected'],
    fromBeginning: false,
    handle: async (event) => {
      const e = event as AnyEvent;
      if (e.type === 'data.validated') summary.validated++;
      if (e.type === 'data.rejected') {
        summary.rejected++;
        for (const r of e.data.reasons) summary.rejectReasons[r.field] = (summary.rejectReasons[r.field] ?? 0) + 1;
      }
    },
  });

  await ingestion.service.registerContract('transactions', {
    fields: {
      id: { type: 'string' },
      customer: { type: 'string' },
      amount: { type: 'number', min: 0 },
      channel: { type: 'string', enum: ['web', 'app', 'store'] },
      ts: { type: 'timestamp' },
    },
    idField: 'id',
    timestampField: 'ts',
    entityKeyField: 'customer',
  });
  options.print('registered data contract "transactions"; streaming records to raw.transactions');

  const batch = 250;
  for (let start = 0; start < options.records; start += batch) {
    const count = Math.min(batch, options.records - start);
    await transport.send(
      Array.from({ length: count }, (_, k) => {
        const record = syntheticRecord(start + k);
        return { topic: 'raw.transactions', key: String(record.customer), value: JSON.stringify(record) };
      }),
    );
    summary.produced += count;
    await sleep(5);
    options.print(`  produced ${summary.produced}/${options.records}  validated ${summary.validated}  rejected ${summary.rejected}`);
  }
  const deadline = Date.now() + 30_000;
  while (summary.validated + summary.rejected < summary.produced && Date.now() < deadline) await sleep(20);

  if (options.serve) {
    options.print(`serving; POST ${ingestion.url}/sources/transactions/records — Ctrl-C to stop`);
    await new Promise<void>((resolve) => process.once('SIGINT', resolve).once('SIGTERM', resolve));
  }
  await watch.stop();
  await ingestion.close();
  return summary;
}

import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { runEmbedded } from './embedded';

const { values } = parseArgs({
  options: {
    serve: { type: 'boolean', default: false },
    'no-demo': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    records: { type: 'string', default: '3000' },
    'shift-records': { type: 'string' },
    window: { type: 'string', default: '300' },
    'promote-after': { type: 'string', default: '100' },
    'label-share': { type: 'string', default: '0.5' },
    epochs: { type: 'string', default: '200' },
    port: { type: 'string', default: '8080' },
    'grpc-port': { type: 'string', default: '8001' },
    'data-dir': { type: 'string', default: '.mlops' },
  },
});

function positive(name: string, text: string | undefined): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) {
    console.error(`--${name}: expected a positive integer, got "${text}"`);
    process.exit(2);
  }
  return n;
}

function share(name: string, text: string | undefined): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0 || n > 1) {
    console.error(`--${name}: expected a number from 0 to 1, got "${text}"`);
    process.exit(2);
  }
  return n;
}

function port(name: string, text: string | undefined): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    console.error(`--${name}: expected a port from 0 (any free port) to 65535, got "${text}"`);
    process.exit(2);
  }
  return n;
}

if (values['no-demo'] && !values.serve) {
  console.error('--no-demo: only with --serve (without the demo there is nothing to run but serving): npm start -- --serve --no-demo');
  process.exit(2);
}
const records = positive('records', values.records);
runEmbedded({
  dataDir: values['data-dir']!,
  keep: values.keep,
  port: port('port', values.port),
  grpcPort: port('grpc-port', values['grpc-port']),
  records,
  shiftRecords: values['shift-records'] === undefined ? records : positive('shift-records', values['shift-records']),
  windowSize: positive('window', values.window),
  promoteAfter: positive('promote-after', values['promote-after']),
  labelShare: share('label-share', values['label-share']),
  epochs: positive('epochs', values.epochs),
  serve: values.serve!,
  demo: !values['no-demo'],
  print: (line) => console.log(line),
})
  .then((summary) => {
    // Without the demo there is no run to sum up: it served until Ctrl-C.
    if (values['no-demo']) process.exit(0);
    const lost = summary.produced - summary.validated - summary.rejected;
    const s = (ms: number) => `${(ms / 1000).toFixed(2)}s`.padStart(8);
    console.log('\nsummary');
    for (const step of summary.steps) console.log(`  ${step.ok ? 'ok  ' : 'FAIL'} ${s(step.ms)}  ${step.step}`);
    console.log(`  records produced   ${summary.produced} (validated ${summary.validated}, rejected ${summary.rejected}, unaccounted ${lost})`);
    console.log(`  versions           first v${summary.firstVersion ?? '-'} -> retrained v${summary.newVersion ?? '-'}; champion now v${summary.championAfter ?? '-'}; gRPC now answered by v${summary.answeringVersion ?? '-'}`);
    const loop = summary.loop;
    if (loop) {
      console.log(`  loop ${loop.correlationId} (from the loop service): ${loop.status}, outcome ${loop.outcome ?? '-'}${loop.durationMs !== null ? ` after ${s(loop.durationMs).trim()}` : ''}`);
      if (loop.outcomeReason) console.log(`    ${loop.outcomeReason}`);
      for (const stage of loop.stages) {
        const facts = Object.entries(stage.facts)
          .filter(([k]) => ['version', 'verdict', 'status', 'trafficShare', 'rowCount', 'strategy', 'predictions', 'labels'].includes(k))
          .map(([k, v]) => `${k}=${String(v)}`)
          .join(' ');
        console.log(`    +${s(stage.sinceStartMs).trim().padStart(7)}  ${stage.type.padEnd(21)} ${facts}${stage.ignored ? ' (ignored)' : ''}${stage.note ? `  ${stage.note}` : ''}`);
      }
    }
    if (summary.timeline.shiftedAt && summary.timeline.servingAllAt) {
      console.log(`  shifted traffic -> v${summary.answeringVersion ?? '-'} on 100% of traffic: ${s(summary.timeline.servingAllAt - summary.timeline.shiftedAt).trim()}`);
    }
    const versions = Object.entries(summary.grpc.byVersion).map(([v, n]) => `v${v}: ${n}`).join(', ');
    console.log(`  gRPC requests      ${summary.grpc.requests} (${summary.grpc.rows} rows; ${versions}; ${summary.grpc.labels} labels sent), failed ${summary.grpc.failed}${summary.grpc.lastError ? ` (last: ${summary.grpc.lastError})` : ''}`);
    console.log(`  result             ${summary.completed ? `closed loop completed: ${summary.loop?.outcome}` : `stopped at: ${summary.stoppedAt ?? 'unknown'}`}`);
    process.exit(summary.completed && summary.grpc.failed === 0 && lost === 0 ? 0 : 1);
  })
  .catch((error) => {
    console.error(error);
    process.exit(1);
  });

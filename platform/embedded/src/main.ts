import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { runEmbedded } from './embedded';

const { values } = parseArgs({
  options: {
    serve: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    records: { type: 'string', default: '3000' },
    'shift-records': { type: 'string' },
    window: { type: 'string', default: '300' },
    'promote-after': { type: 'string', default: '100' },
    epochs: { type: 'string', default: '200' },
    port: { type: 'string', default: '3001' },
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

const records = positive('records', values.records);
runEmbedded({
  dataDir: values['data-dir']!,
  keep: values.keep,
  port: Number(values.port),
  grpcPort: Number(values['grpc-port']),
  records,
  shiftRecords: values['shift-records'] === undefined ? records : positive('shift-records', values['shift-records']),
  windowSize: positive('window', values.window),
  promoteAfter: positive('promote-after', values['promote-after']),
  epochs: positive('epochs', values.epochs),
  serve: values.serve!,
  print: (line) => console.log(line),
})
  .then((summary) => {
    const lost = summary.produced - summary.validated - summary.rejected;
    const s = (ms: number) => `${(ms / 1000).toFixed(2)}s`.padStart(8);
    console.log('\nsummary');
    for (const step of summary.steps) console.log(`  ${step.ok ? 'ok  ' : 'FAIL'} ${s(step.ms)}  ${step.step}`);
    console.log(`  records produced   ${summary.produced} (validated ${summary.validated}, rejected ${summary.rejected}, unaccounted ${lost})`);
    console.log(`  versions           first v${summary.firstVersion ?? '-'} -> retrained v${summary.newVersion ?? '-'}; gRPC now answered by v${summary.answeringVersion ?? '-'}`);
    if (summary.loopMs !== undefined) console.log(`  closed loop        ${s(summary.loopMs).trim()} drift.detected -> model.promoted (loop ${summary.loopCorrelationId})`);
    const versions = Object.entries(summary.grpc.byVersion).map(([v, n]) => `v${v}: ${n}`).join(', ');
    console.log(`  gRPC requests      ${summary.grpc.requests} (${summary.grpc.rows} rows; ${versions}), failed ${summary.grpc.failed}${summary.grpc.lastError ? ` (last: ${summary.grpc.lastError})` : ''}`);
    console.log(`  result             ${summary.completed ? 'closed loop completed' : `stopped at: ${summary.stoppedAt ?? 'unknown'}`}`);
    process.exit(summary.completed && summary.grpc.failed === 0 && lost === 0 ? 0 : 1);
  })
  .catch((error) => {
    console.error(error);
    process.exit(1);
  });

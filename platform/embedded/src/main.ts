import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { runEmbedded } from './embedded';

const { values } = parseArgs({
  options: {
    serve: { type: 'boolean', default: false },
    records: { type: 'string', default: '2000' },
    port: { type: 'string', default: '3001' },
    'data-dir': { type: 'string', default: '.mlops' },
  },
});

const records = Number(values.records);
if (!Number.isInteger(records) || records <= 0) {
  console.error(`--records: expected a positive integer, got "${values.records}"`);
  process.exit(2);
}

runEmbedded({
  dataDir: values['data-dir']!,
  port: Number(values.port),
  records,
  serve: values.serve!,
  print: (line) => console.log(line),
})
  .then((summary) => {
    const lost = summary.produced - summary.validated - summary.rejected;
    console.log('\nsummary');
    console.log(`  records produced   ${summary.produced}`);
    console.log(`  data.validated     ${summary.validated}`);
    console.log(`  data.rejected      ${summary.rejected}  ${JSON.stringify(summary.rejectReasons)}`);
    console.log(`  unaccounted        ${lost}`);
    process.exit(lost === 0 ? 0 : 1);
  })
  .catch((error) => {
    console.error(error);
    process.exit(1);
  });

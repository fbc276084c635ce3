// Removes what one benchmark run left in the shared Postgres and Redis: the view's history
// rows and processed-event ids, and the online keys under its Redis prefix.
// usage: node cleanup.mjs --view V --prefix P   (DATABASE_URL, REDIS_URL from the environment)
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const { Client } = require('pg');
const Redis = require('ioredis');
const { values: a } = parseArgs({ options: { view: { type: 'string' }, prefix: { type: 'string' } } });
if (!/^bench_/.test(a.view) || !/^fs-bench-/.test(a.prefix)) throw new Error('refusing to clean anything but a benchmark view/prefix');

const pg = new Client({ connectionString: process.env.DATABASE_URL });
await pg.connect();
const rows = await pg.query('DELETE FROM feature_store_rows WHERE view = $1', [a.view]);
const ids = await pg.query('DELETE FROM feature_store_processed_events WHERE consumer = $1', [`data.validated:${a.view}`]);
await pg.end();

const redis = new Redis(process.env.REDIS_URL);
let keys = 0;
let cursor = '0';
do {
  const [next, found] = await redis.scan(cursor, 'MATCH', `${a.prefix}:*`, 'COUNT', 1000);
  cursor = next;
  if (found.length) keys += await redis.del(...found);
} while (cursor !== '0');
await redis.quit();
console.error(`[bench] cleanup: ${rows.rowCount} history rows, ${ids.rowCount} processed ids, ${keys} Redis keys removed`);

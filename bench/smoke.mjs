// Every benchmark in its smoke configuration (tiny sizes, seconds each), one after the other,
// each under a time limit: a benchmark that hangs, fails or no longer runs against the built
// tree fails this script (exit 1). The figures they print mean nothing; the full runs stay
// manual (see each bench/*/README.md).
// usage: npm run build && npm run bench:smoke          (CI runs it after npm test, see .ci/run)
//        node bench/smoke.mjs [name-filter]            e.g. node bench/smoke.mjs loop/
//        BENCH_SMOKE_JOBS=2: benchmarks run at a time (most of a smoke run is waiting: server
//        starts, Kafka group joins, fixed-rate phases), each line of output prefixed by its name
// Needs: dist/ (npm run build); the interop Python (MLOPS_PYTHON, else deploy/local/python.sh)
// for the ONNX model; ghz (installed into ~/.cache/mlops-bin with `go install` when missing, as
// the serving and feature-store benchmarks do); Kafka, Postgres and Redis (KAFKA_BROKERS,
// DATABASE_URL=postgres://..., REDIS_URL; /tmp/mlops-local/env is read when they are unset) for
// label-throughput and the feature-store benchmarks. Without them those benchmarks fail, unless
// BENCH_SMOKE_ALLOW_MISSING=1, which skips them with a line saying so.
// Peers that CI does not provision are skipped by the benchmarks' own SMOKE=1 mode, each with a
// printed line: MLServer (serving/run.sh) and the MLflow server (tracking/run.sh).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

const root = resolve(import.meta.dirname, '..');
const filter = process.argv[2] ?? '';

if (!existsSync(join(root, 'dist/services/serving/src/main.js'))) {
  console.error('bench smoke: dist/ is missing or incomplete: run `npm run build` first');
  process.exit(1);
}

const localEnv = '/tmp/mlops-local/env';
if (!process.env.KAFKA_BROKERS && existsSync(localEnv)) {
  for (const line of readFileSync(localEnv, 'utf8').split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match && process.env[match[1]] === undefined) process.env[match[1]] = match[2].replace(/^(['"])(.*)\1$/, '$2');
  }
}
const infra = () => {
  const missing = ['KAFKA_BROKERS', 'REDIS_URL'].filter((name) => !process.env[name]);
  if (!process.env.DATABASE_URL?.startsWith('postgres')) missing.push('DATABASE_URL=postgres://...');
  return missing.length ? `needs ${missing.join(', ')} (running Kafka, Postgres, Redis; source ${localEnv})` : undefined;
};

const ghzPath = process.env.GHZ ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'mlops-bin/ghz');
const ghz = () => {
  if (existsSync(ghzPath)) return undefined;
  console.log(`bench smoke: installing ghz into ${resolve(ghzPath, '..')} (go install github.com/bojand/ghz/cmd/ghz@latest, once)`);
  try {
    execFileSync('go', ['install', 'github.com/bojand/ghz/cmd/ghz@latest'], { env: { ...process.env, GOBIN: resolve(ghzPath, '..') }, stdio: 'inherit', timeout: 600_000 });
  } catch (error) {
    return `needs ghz at ${ghzPath}, and installing it with go failed: ${error.message}`;
  }
  return undefined;
};

let work;
/** A scratch dir with the serving bench's ONNX model (built once, by the interop Python). */
const model = () => {
  if (work) return join(work, 'models/logreg_v1.onnx');
  work = mkdtempSync(join(tmpdir(), 'mlops-bench-smoke-'));
  const python = process.env.MLOPS_PYTHON ?? execFileSync('bash', [join(root, 'deploy/local/python.sh')], { encoding: 'utf8' }).trim();
  execFileSync(python, [join(root, 'test/fixtures/serving/make_models.py'), join(work, 'models')], { stdio: ['ignore', 'ignore', 'inherit'] });
  return join(work, 'models/logreg_v1.onnx');
};

// name, command, extra env, time limit (s), what it needs (a function returning why it cannot run)
const benches = [
  { name: 'loop/drift-window', cmd: () => ['node', 'bench/loop/drift-window.mjs'], env: { ROWS: '3000', LARGE_REFERENCE_ROWS: '2000' }, limit: 30 },
  { name: 'loop/drift-throughput', cmd: () => ['node', 'bench/loop/drift-throughput.mjs'], env: { ROWS: '3000', ROUNDS: '1', STALL_S: '10' }, limit: 60 },
  {
    name: 'loop/loop-time',
    cmd: () => ['node', 'bench/loop/loop-time.mjs'],
    env: { RUNS: '1', RECORDS: '300', WINDOW: '100', PROMOTE_AFTER: '20', EPOCHS: '20', LABEL_SHARE: '1' },
    limit: 90,
  },
  { name: 'loop/label-throughput', cmd: () => ['node', 'bench/loop/label-throughput.mjs'], env: { LABELS: '200', ROUNDS: '1' }, limit: 90, needs: infra },
  { name: 'serving/logging-cost', cmd: () => ['node', 'bench/serving/logging-cost.mjs', '5'], limit: 30 },
  { name: 'serving/handler-cost', cmd: () => ['node', 'bench/serving/handler-cost.mjs', model(), '1', '500', '8'], limit: 30 },
  { name: 'serving/batching', cmd: () => ['node', 'bench/serving/batching.mjs', model()], env: { CONCURRENCY: '4', SECONDS: '1' }, limit: 30 },
  { name: 'serving/run.sh', cmd: () => ['bash', 'bench/serving/run.sh'], env: { SMOKE: '1' }, limit: 120, needs: ghz },
  {
    name: 'serving/paired-ab.sh',
    cmd: () => ['bash', 'bench/serving/paired-ab.sh', '1', 'smoke=dist'],
    // OUT: the scratch dir, whose models/ already holds the model the script looks for
    env: () => (model(), { POINTS: '1:2', SECS: '1', WARMUP_S: '1', OUT: work }),
    limit: 60,
    needs: ghz,
  },
  { name: 'tracking/run.sh', cmd: () => ['bash', 'bench/tracking/run.sh'], env: { SMOKE: '1' }, limit: 60 },
  { name: 'feature-store/run.sh', cmd: () => ['bash', 'bench/feature-store/run.sh'], env: { SMOKE: '1' }, limit: 120, needs: () => infra() ?? ghz() },
  { name: 'feature-store/tail.sh', cmd: () => ['bash', 'bench/feature-store/tail.sh'], env: { SMOKE: '1' }, limit: 90, needs: () => infra() ?? ghz() },
];

/** Runs one command in its own process group; on the time limit the whole group is stopped. */
function run(bench) {
  const [command, ...args] = bench.cmd();
  const env = { ...process.env, ...(typeof bench.env === 'function' ? bench.env() : bench.env) };
  return new Promise((done) => {
    const start = performance.now();
    const child = spawn(command, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    for (const stream of [child.stdout, child.stderr]) createInterface({ input: stream }).on('line', (line) => console.log(`  [${bench.name}] ${line}`));
    let timedOut = false;
    const kill = (signal) => {
      try {
        process.kill(-child.pid, signal);
      } catch {
        // the group is gone already
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill('SIGTERM');
      setTimeout(() => kill('SIGKILL'), 5_000).unref();
    }, bench.limit * 1000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      // the benchmark's leftovers (servers it started) go with it
      kill('SIGKILL');
      const seconds = (performance.now() - start) / 1000;
      done({ seconds, ok: !timedOut && code === 0, why: timedOut ? `over its ${bench.limit} s limit` : code === 0 ? '' : `exit ${code ?? signal}` });
    });
  });
}

async function smoke(bench) {
  const missing = bench.needs?.();
  if (missing) {
    const skip = process.env.BENCH_SMOKE_ALLOW_MISSING === '1';
    console.log(`bench smoke: ${bench.name} ${skip ? 'SKIPPED' : 'FAILED'}: ${missing}`);
    return { name: bench.name, status: skip ? 'skipped' : 'FAILED', seconds: 0, why: missing };
  }
  console.log(`bench smoke: ${bench.name} (limit ${bench.limit} s)`);
  const result = await run(bench);
  console.log(`bench smoke: ${bench.name} ${result.ok ? 'ok' : `FAILED (${result.why})`} in ${result.seconds.toFixed(1)} s`);
  return { name: bench.name, status: result.ok ? 'ok' : 'FAILED', seconds: result.seconds, why: result.why };
}

// the longest first, so that the short ones fill in beside them
const selected = benches.filter((b) => b.name.includes(filter)).sort((a, b) => b.limit - a.limit);
const jobs = Math.max(1, Number(process.env.BENCH_SMOKE_JOBS ?? 2));
// prerequisites first, one at a time (a ghz install or the model build must not race)
for (const need of new Set(selected.map((b) => b.needs).filter(Boolean))) need();
if (selected.some((b) => b.name.startsWith('serving/') && b.name !== 'serving/logging-cost')) model();
const results = new Array(selected.length);
const started = performance.now();
let next = 0;
try {
  await Promise.all(
    Array.from({ length: jobs }, async () => {
      while (next < selected.length) {
        const i = next++;
        results[i] = await smoke(selected[i]);
      }
    }),
  );
} finally {
  if (work) rmSync(work, { recursive: true, force: true });
}

console.log('\nbench smoke summary');
for (const r of results) console.log(`  ${r.status.padEnd(7)} ${r.seconds.toFixed(1).padStart(6)} s  ${r.name}${r.why ? `  (${r.why})` : ''}`);
const wall = (performance.now() - started) / 1000;
const failed = results.filter((r) => r.status === 'FAILED');
const skipped = results.filter((r) => r.status === 'skipped');
console.log(
  `  ${wall.toFixed(1)} s wall (${jobs} at a time); ${results.length - failed.length - skipped.length} of ${results.length} passed` +
    `${skipped.length ? `, ${skipped.length} skipped` : ''}${failed.length ? `; FAILED: ${failed.map((r) => r.name).join(', ')}` : ''}`,
);
if (results.length === 0) {
  console.log(`no benchmark matches "${filter}"`);
  process.exitCode = 1;
}
if (failed.length) process.exitCode = 1;

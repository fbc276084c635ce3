import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { run } from './main';

interface Seen {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}
type Handler = (body: unknown, path: string) => [number, unknown] | Promise<[number, unknown]>;

/** A small front door playing the platform's routes: `'PUT /ingestion/sources/x/contract'` -> handler. */
class FakePlatform {
  readonly seen: Seen[] = [];
  routes = new Map<string, Handler>();
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', async () => {
        const body = text ? JSON.parse(text) : undefined;
        const path = req.url!;
        this.seen.push({ method: req.method!, path, headers: req.headers, body });
        const handler = this.routes.get(`${req.method} ${path}`) ?? this.routes.get(`${req.method} ${path.split('?')[0]}`);
        const [status, answer] = handler ? await handler(body, path) : [404, { error_code: 'ENDPOINT_NOT_FOUND', message: `no route ${req.method} ${path}` }];
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
      });
    });
    await new Promise<void>((done) => this.server.listen(0, '127.0.0.1', done));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  on(route: string, handler: Handler | [number, unknown]): void {
    this.routes.set(route, typeof handler === 'function' ? handler : () => handler);
  }

  requests(prefix: string): Seen[] {
    return this.seen.filter((s) => `${s.method} ${s.path}`.startsWith(prefix));
  }

  close(): Promise<void> {
    return new Promise((done) => this.server.close(() => done()));
  }
}

let platform: FakePlatform;
let dir: string;
const EXAMPLE = resolve(__dirname, '../../../examples/churn');

async function mlops(args: string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await run(args, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    isTTY: false,
    env: { MLOPS_URL: platform.url, ...env },
    cwd: dir,
  });
  return { code, stdout, stderr };
}

beforeEach(async () => {
  platform = new FakePlatform();
  await platform.start();
  dir = mkdtempSync(join(tmpdir(), 'mlops-cli-'));
});
afterEach(async () => {
  await platform.close();
  rmSync(dir, { recursive: true, force: true });
});

const SERVICES = ['ingestion', 'feature-store', 'tracking', 'trainer', 'registry', 'serving', 'monitoring', 'loop'];

describe('mlops status', () => {
  it("asks every service's /health/ready through the front door; exit 0 when all are ready", async () => {
    for (const s of SERVICES) platform.on(`GET /${s}/health/ready`, [200, { status: 'ok' }]);
    const out = await mlops(['status']);
    expect(out.code).toBe(0);
    expect(platform.seen.map((s) => s.path).sort()).toEqual(SERVICES.map((s) => `/${s}/health/ready`).sort());
    expect(out.stdout).toContain(`all 8 services ready at ${platform.url}`);
  });

  it('exits 1 naming a service that is not ready, and --json gives the same for scripts', async () => {
    for (const s of SERVICES) platform.on(`GET /${s}/health/ready`, s === 'monitoring' ? [503, { status: 'error', bus: 'down' }] : [200, { status: 'ok' }]);
    const out = await mlops(['status']);
    expect(out.code).toBe(1);
    expect(out.stdout).toMatch(/monitoring\s+NOT READY \(503: \{"status":"error","bus":"down"\}\)/);
    const json = await mlops(['status', '--json']);
    expect(json.code).toBe(1);
    const doc = JSON.parse(json.stdout) as { ready: boolean; services: { service: string; ready: boolean }[] };
    expect(doc.ready).toBe(false);
    expect(doc.services.filter((s) => !s.ready).map((s) => s.service)).toEqual(['monitoring']);
  });

  it('says how to start the platform when nothing answers (exit 1)', async () => {
    const closed = platform.url;
    await platform.close();
    const out = await mlops(['status', '--url', closed]);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain(`cannot reach ${closed}: is the platform running? start it with \`npm start -- --serve\``);
    platform = new FakePlatform();
    await platform.start();
  });
});

describe('tokens and errors', () => {
  it('sends API_TOKEN (or --token) as the bearer token, and says which to set on a 401', async () => {
    platform.on('GET /loop/api/loops', (_b) => [200, { loops: [] }]);
    await mlops(['loops'], { API_TOKEN: 's3cret' });
    expect(platform.seen[0]!.headers.authorization).toBe('Bearer s3cret');
    await mlops(['loops', '--token', 'other'], { API_TOKEN: 's3cret' });
    expect(platform.seen[1]!.headers.authorization).toBe('Bearer other');
    platform.on('GET /loop/api/loops', [401, { error_code: 'UNAUTHENTICATED', message: 'missing Authorization header (expected "Bearer <token>")' }]);
    const out = await mlops(['loops']);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('401 UNAUTHENTICATED: missing Authorization header');
    expect(out.stderr).toContain('set API_TOKEN (or pass --token)');
  });

  it('exits 2 on usage errors and sends nothing', async () => {
    expect((await mlops(['nope'])).code).toBe(2);
    expect((await mlops(['deploy', 'churn'])).code).toBe(2);
    const bad = await mlops(['deploy', 'churn', 'two']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('<version>: expected a version number such as 2, got "two"');
    expect((await mlops(['deploy', 'churn', '2', '--canary', '1.5'])).stderr).toContain('--canary: expected a share of traffic between 0 and 1');
    expect((await mlops(['deploy', 'churn', '2', '--canary', '0.1', '--shadow'])).stderr).toContain('--canary, --shadow: choose one release strategy');
    expect((await mlops(['deploy', 'churn', '2', '--labels', '50'])).stderr).toContain('--labels: only with --ab');
    expect((await mlops(['deploy', 'churn', '2', '--ab', '0.5', '--labels', '2.5'])).stderr).toContain('--labels: expected a whole number of labels per side, got "2.5"');
    expect((await mlops(['status', '--url', 'localhost:8080'])).code).toBe(2);
    expect(platform.seen).toEqual([]);
  });
});

describe('mlops apply', () => {
  const answers = (changed: boolean, version: number) => {
    platform.on('PUT /ingestion/sources/customers/contract', [200, { source: 'customers', version, changed }]);
    platform.on('PUT /feature-store/feature-views/churn_features', [200, { name: 'churn_features', version, changed, backfilled: changed ? 1198 : 0 }]);
    platform.on('PUT /loop/api/models/churn/feature-view', [200, { model: 'churn', featureView: 'churn_features' }]);
    platform.on('PUT /loop/api/models/churn/training-params', (body) => [200, { model: 'churn', ...(body as object), from: 'api' }]);
  };

  it("puts the contract, the feature view, the loop feature view and the retrains' training params of examples/churn, and prints what changed", async () => {
    answers(true, 1);
    const out = await mlops(['apply', '-f', EXAMPLE]);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    expect(platform.seen.map((s) => `${s.method} ${s.path}`)).toEqual([
      'PUT /ingestion/sources/customers/contract',
      'PUT /feature-store/feature-views/churn_features',
      'PUT /loop/api/models/churn/feature-view',
      'PUT /loop/api/models/churn/training-params',
    ]);
    const [contract, view, loop, params] = platform.seen.map((s) => s.body as Record<string, unknown>);
    expect(contract).toMatchObject({ idField: 'customer_id', entityKeyField: 'customer_id', fields: { churned: { type: 'integer', min: 0, max: 1 } } });
    expect(contract).not.toHaveProperty('source');
    expect(view).toMatchObject({ name: 'churn_features', source: 'customers', entityKey: 'customer_id' });
    expect((view.features as { name: string }[]).map((f) => f.name)).toEqual(['tenure_months', 'monthly_charges', 'support_calls', 'contract_months', 'label']);
    expect(loop).toEqual({ featureView: 'churn_features' });
    expect(params).toEqual({ params: { algorithm: 'mlp', hiddenLayers: [16], epochs: 150, seed: 7 } });
    expect(out.stdout).toContain('contract customers: created v1\n');
    expect(out.stdout).toContain('feature view churn_features: v1 (created), backfilled 1198 rows\n');
    expect(out.stdout).toContain(
      'model churn: the loop retrains it from feature view churn_features with training params {"algorithm":"mlp","hiddenLayers":[16],"epochs":150,"seed":7} (as `mlops train churn -f',
    );
  });

  it('prints unchanged when the services changed nothing, and changed with the new version', async () => {
    answers(false, 1);
    const same = await mlops(['apply', '-f', EXAMPLE]);
    expect(same.stdout).toContain('contract customers: unchanged (v1)');
    expect(same.stdout).toContain('feature view churn_features: v1 (unchanged)\n');
    answers(true, 2);
    const json = await mlops(['apply', '-f', join(EXAMPLE, 'mlops.yaml'), '--json']);
    expect(JSON.parse(json.stdout).changes.slice(0, 2)).toEqual([
      { kind: 'contract', name: 'customers', version: 2, state: 'changed' },
      { kind: 'featureView', name: 'churn_features', version: 2, state: 'changed', backfilled: 1198 },
    ]);
  });

  it("puts a model's release policy to the registry and prints created, unchanged or changed", async () => {
    const policy = { latencyP99Ms: 5, slices: { column: 'region', metric: 'accuracy', maxGap: 0.05 } };
    writeFileSync(join(dir, 'policy.yaml'), `models:\n  - name: churn\n    featureView: churn_features\n    policy: ${JSON.stringify(policy)}\n`);
    platform.on('PUT /loop/api/models/churn/feature-view', [200, { model: 'churn', featureView: 'churn_features' }]);
    platform.on('PUT /loop/api/models/churn/training-params', [200, { model: 'churn', params: {}, from: 'api' }]);
    platform.on('PUT /registry/models/churn/policy', [200, { model: 'churn', version: 1, changed: true }]);
    const out = await mlops(['apply', '-f', 'policy.yaml']);
    expect(out.code).toBe(0);
    expect(platform.requests('PUT /registry/models/churn/policy').map((s) => s.body)).toEqual([policy]);
    expect(out.stdout).toContain('release policy of churn: created v1\n');
    platform.on('PUT /registry/models/churn/policy', [200, { model: 'churn', version: 1, changed: false }]);
    expect((await mlops(['apply', '-f', 'policy.yaml'])).stdout).toContain('release policy of churn: unchanged (v1)\n');
    platform.on('PUT /registry/models/churn/policy', [200, { model: 'churn', version: 2, changed: true }]);
    const json = JSON.parse((await mlops(['apply', '-f', 'policy.yaml', '--json'])).stdout);
    expect(json.changes.at(-1)).toEqual({ kind: 'policy', name: 'churn', version: 2, state: 'changed' });
  });

  it('refuses a project with a mistake before sending anything, naming the file and field (exit 2)', async () => {
    writeFileSync(join(dir, 'p.yaml'), 'models:\n  - name: churn\n    featureVeiw: x\n');
    const out = await mlops(['apply', '-f', 'p.yaml']);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('p.yaml: models.0.featureView:');
    expect(out.stderr).toMatch(/featureVeiw/);
    expect((await mlops(['apply', '-f', 'missing'])).stderr).toContain('-f missing: no such file or directory');
    expect(platform.seen).toEqual([]);
  });

  it('stops at the first refusal with the service\'s reason (exit 1)', async () => {
    answers(true, 1);
    platform.on('PUT /feature-store/feature-views/churn_features', [400, { error_code: 'INVALID_PARAMETER_VALUE', message: 'features.0.type: expected number' }]);
    const out = await mlops(['apply', '-f', EXAMPLE]);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain(`PUT ${platform.url}/feature-store/feature-views/churn_features: 400 INVALID_PARAMETER_VALUE: features.0.type: expected number`);
    expect(platform.requests('PUT /loop')).toEqual([]);
  });
});

describe('mlops ingest', () => {
  beforeEach(() => {
    platform.on('GET /ingestion/sources/customers/contract', [
      200,
      { source: 'customers', version: 3, contract: { fields: { customer_id: { type: 'string' }, n: { type: 'integer' }, ok: { type: 'boolean' }, note: { type: 'string' } } } },
    ]);
    platform.on('POST /ingestion/sources/customers/records', (body) => {
      const records = (body as { records: Record<string, unknown>[] }).records;
      const bad = records.map((r, index) => ({ r, index })).filter(({ r }) => typeof r.n !== 'number');
      return [200, { source: 'customers', contractVersion: 3, accepted: records.length - bad.length, rejected: bad.length, rejections: bad.map(({ r, index }) => ({ index, recordId: r.customer_id, reasons: [{ field: 'n', message: 'expected number' }] })) }];
    });
    platform.on('GET /feature-store/feature-views', [200, { featureViews: [] }]);
  });

  it('waits until every feature view of the source holds the accepted records (the feature store applies them after ingestion answers)', async () => {
    platform.on('GET /feature-store/feature-views', [200, { featureViews: [{ name: 'mine', source: 'customers' }, { name: 'theirs', source: 'other' }] }]);
    const counts = [40, 40, 41, 42];
    platform.on('GET /feature-store/feature-views/mine/rows', () => [200, { name: 'mine', version: 1, rows: counts.shift() ?? 42 }]);
    writeFileSync(join(dir, 'c.jsonl'), '{"customer_id":"a","n":1}\n{"customer_id":"b","n":2}\n');
    const out = await mlops(['ingest', 'c.jsonl', '--source', 'customers']);
    expect(out.code).toBe(0);
    expect(out.stderr).toContain('customers: waiting for the feature store to apply 2 records to mine\n');
    expect(platform.requests('GET /feature-store/feature-views/mine/rows')).toHaveLength(4);
    expect(platform.requests('GET /feature-store/feature-views/theirs')).toEqual([]);

    platform.seen.length = 0;
    expect((await mlops(['ingest', 'c.jsonl', '--source', 'customers', '--no-wait'])).code).toBe(0);
    expect(platform.requests('GET /feature-store')).toEqual([]);
  });

  it('types CSV cells by the contract, sends batches, and prints counts with the first reasons', async () => {
    writeFileSync(join(dir, 'c.csv'), 'customer_id,n,ok,note\n007,1,true,"a, b"\n008,x,false,\n009,3,1,"say ""hi"""\n');
    const out = await mlops(['ingest', 'c.csv', '--source', 'customers', '--batch-size', '2']);
    expect(out.code).toBe(0);
    const batches = platform.requests('POST /ingestion/sources/customers/records').map((s) => (s.body as { records: unknown[] }).records);
    expect(batches).toEqual([
      [
        { customer_id: '007', n: 1, ok: true, note: 'a, b' },
        { customer_id: '008', n: 'x', ok: false },
      ],
      [{ customer_id: '009', n: 3, ok: true, note: 'say "hi"' }],
    ]);
    expect(out.stdout).toContain('customers: 3 records from c.csv, accepted 2, rejected 1 (contract v3)\n  line 3 (008): n: expected number');
    // Not a terminal: plain progress lines on stderr, one a batch.
    expect(out.stderr.trim().split('\n')).toEqual(['customers: sent 2/3 records (accepted 1, rejected 1)', 'customers: sent 3/3 records (accepted 2, rejected 1)']);
  });

  it('reads JSON lines as they are', async () => {
    writeFileSync(join(dir, 'c.jsonl'), '{"customer_id":"a","n":1}\n\n{"customer_id":"b","n":2}\n');
    const out = await mlops(['ingest', 'c.jsonl', '--source', 'customers', '--json']);
    expect(JSON.parse(out.stdout)).toMatchObject({ records: 2, accepted: 2, rejected: 0 });
  });

  it('reads Parquet typed by its schema (INT64 as numbers, timestamps as ISO 8601, null as a missing field); rejections name the row', async () => {
    platform.on('POST /ingestion/sources/customers/records', (body) => {
      const records = (body as { records: Record<string, unknown>[] }).records;
      const bad = records.map((r, index) => ({ r, index })).filter(({ r }) => r.monthly_charges === undefined);
      return [200, { source: 'customers', contractVersion: 3, accepted: records.length - bad.length, rejected: bad.length, rejections: bad.map(({ r, index }) => ({ index, recordId: r.customer_id, reasons: [{ field: 'monthly_charges', message: 'Required' }] })) }];
    });
    const out = await mlops(['ingest', join(EXAMPLE, 'march.parquet'), '--source', 'customers', '--batch-size', '5']);
    expect(out.code).toBe(0);
    const records = platform.requests('POST /ingestion/sources/customers/records').flatMap((s) => (s.body as { records: Record<string, unknown>[] }).records);
    expect(records).toHaveLength(20);
    expect(records[0]).toEqual({ customer_id: 'C03001', ts: '2026-03-01T01:00:00.000Z', tenure_months: 7, monthly_charges: 53.25, support_calls: 1, contract_months: 12, churned: 0 });
    expect(records[6]).not.toHaveProperty('monthly_charges');
    expect(out.stdout).toBe(`customers: 20 records from ${join(EXAMPLE, 'march.parquet')}, accepted 19, rejected 1 (contract v3)\n  row 7 (C03007): monthly_charges: Required\n`);
  });

  it('says to register a contract first for an unknown source, and refuses unreadable files', async () => {
    writeFileSync(join(dir, 'c.csv'), 'a\n1\n');
    const out = await mlops(['ingest', 'c.csv', '--source', 'nobody']);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('source "nobody" has no data contract: register one first (`mlops apply -f <project>`');
    expect((await mlops(['ingest', 'none.csv', '--source', 'customers'])).stderr).toContain('cannot read none.csv: no such file');
    writeFileSync(join(dir, 'c.parquet'), '');
    expect((await mlops(['ingest', 'c.parquet', '--source', 'customers'])).code).toBe(2);
  });
});

describe('datasets, training, models and the lifecycle', () => {
  const dataset = { datasetId: 'churn_features-v4', version: 4, hash: 'a'.repeat(64), featureView: 'churn_features', uri: '/data/churn_features/v4.arrow', rowCount: 1198, changed: true, correlationId: 'c-1' };

  it('datasets create trains only with --train --model', async () => {
    platform.on('POST /feature-store/datasets', [201, dataset]);
    expect((await mlops(['datasets', 'create', '--view', 'churn_features', '--train'])).code).toBe(2);
    const plain = await mlops(['datasets', 'create', '--view', 'churn_features']);
    expect(plain.stdout).toContain('dataset churn_features-v4: 1198 rows of churn_features, sha256 aaaaaaaaaaaa');
    const trained = await mlops(['datasets', 'create', '--view', 'churn_features', '--train', '--model', 'churn']);
    expect(trained.stdout).toContain('training churn');
    expect(platform.seen.map((s) => s.body)).toEqual([{ featureView: 'churn_features' }, { featureView: 'churn_features', model: 'churn', train: true }]);
  });

  it("train -f materializes the model's view and starts a job with the project's params, then waits for it", async () => {
    platform.on('POST /feature-store/datasets', [201, dataset]);
    platform.on('POST /trainer/jobs', [202, { jobId: 'j1', model: 'churn', status: 'queued', datasetUri: dataset.uri, target: 'label' }]);
    let polls = 0;
    platform.on('GET /trainer/jobs/j1', () => [200, { jobId: 'j1', model: 'churn', status: ++polls < 2 ? 'running' : 'completed', target: 'label', runId: 'run-1', metrics: { accuracy: 0.871, test_rows: 240 } }]);
    platform.on('GET /api/2.0/mlflow/model-versions/search', (_b, path) => [200, { model_versions: decodeURIComponent(path).includes("name='churn' AND run_id='run-1'") ? [{ name: 'churn', version: '3' }] : [] }]);
    let gates = 0;
    platform.on('GET /registry/models/churn/versions/3/gate', () => (++gates < 2 ? [404, { error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'no decision yet' }] : [200, { passed: true, decision: 'pass', reason: 'no champion' }]));
    const out = await mlops(['train', 'churn', '-f', EXAMPLE]);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('  registered as churn v3; gate: pass (no champion)');
    expect(platform.requests('POST /trainer/jobs')[0]!.body).toEqual({ model: 'churn', datasetUri: dataset.uri, target: 'label', params: { algorithm: 'mlp', hiddenLayers: [16], epochs: 150, seed: 7 } });
    expect(out.stdout).toContain('job j1: completed, run run-1: accuracy 0.871, test_rows 240');
    platform.on('GET /trainer/jobs/j1', [200, { jobId: 'j1', model: 'churn', status: 'failed', target: 'label', error: "target column 'label' is not in the dataset" }]);
    const failed = await mlops(['train', 'churn', '--dataset', dataset.uri, '--params', '{"epochs": 5}']);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain("job j1: FAILED: target column 'label' is not in the dataset");
    expect(platform.requests('POST /trainer/jobs')[1]!.body).toEqual({ model: 'churn', datasetUri: dataset.uri, params: { epochs: 5 } });
  });

  it('models lists every page, and one model its versions', async () => {
    platform.on('GET /registry/models', (_b, path) =>
      path.includes('page_token=p2')
        ? [200, { models: [{ name: 'fraud', champion: null, versions: 1, serving: [], updatedAt: '2026-02-01T00:00:00Z' }] }]
        : [200, { models: [{ name: 'churn', champion: 1, versions: 2, serving: [{ version: 1, share: 0.9, strategy: 'full' }, { version: 2, share: 0.1, strategy: 'canary' }], updatedAt: '2026-02-02T00:00:00Z' }], next_page_token: 'p2' }],
    );
    const list = await mlops(['models']);
    expect(list.stdout.split('\n').slice(0, 3)).toEqual([
      'NAME   CHAMPION  VERSIONS  SERVING                     UPDATED',
      'churn  v1        2         v1 90% full, v2 10% canary  2026-02-02T00:00:00Z',
      'fraud  -         1         -                           2026-02-01T00:00:00Z',
    ]);
    platform.on('GET /registry/models/churn/versions', [
      200,
      { versions: [{ version: 2, status: 'READY', aliases: ['challenger'], stage: 'Staging', gate: { passed: true, pendingChecks: ['latency'] }, serving: { status: 'rejected', share: 0 }, runId: 'abcdef1234', datasetHash: 'b'.repeat(64), createdAt: '2026-02-02T00:00:00Z' }] },
    ]);
    const one = await mlops(['models', 'churn', '--json']);
    expect(JSON.parse(one.stdout)).toMatchObject({ model: 'churn', versions: [{ version: 2, aliases: ['challenger'] }] });
    expect((await mlops(['models', 'churn'])).stdout).toContain('v2       READY   challenger  passed (latency pending)  rejected  abcdef12  bbbbbbbbbbbb');
  });

  it('deploy sends the strategy and share; promote says to deploy on 409; rollback sends the reason', async () => {
    platform.on('POST /registry/models/churn/deploy', (body) => [202, { model: 'churn', ...(body as object), correlationId: 'k-9', share: (body as { share?: number }).share ?? 1 }]);
    let probes = 0;
    platform.on('GET /serving/v2/models/churn/versions/2/ready', () => (++probes < 3 ? [400, { error: 'not loaded' }] : [200, {}]));
    const canary = await mlops(['deploy', 'churn', '2', '--canary', '0.1']);
    expect(canary.code).toBe(0);
    expect(canary.stdout).toBe('churn v2: deployment requested (canary, 10% of traffic), correlation id k-9\n  serving churn v2\n');
    expect(probes).toBe(3);
    const unloaded = await mlops(['deploy', 'churn', 'v3', '--timeout', '0.2']);
    expect(unloaded.code).toBe(1);
    expect(unloaded.stdout).toContain('serving has not loaded v3 after 0.2s');
    expect((await mlops(['deploy', 'churn', '3', '--no-wait'])).code).toBe(0);
    const shadow = await mlops(['deploy', 'churn', '3', '--shadow', '--no-wait']);
    expect(shadow.stdout).toContain('churn v3: deployment requested (shadow, a copy of the traffic, its answers never returned)');
    expect((await mlops(['deploy', 'churn', '3', '--blue-green', '--no-wait'])).stdout).toContain('(blue-green, all traffic at once, the old version kept warm)');
    expect((await mlops(['deploy', 'churn', '3', '--ab', '0.5', '--labels', '100', '--no-wait'])).stdout).toContain('(A/B test, 50% of traffic)');
    expect(platform.requests('POST /registry/models/churn/deploy').map((s) => s.body)).toEqual([
      { version: 2, strategy: 'canary', share: 0.1 },
      { version: 3, strategy: 'full' },
      { version: 3, strategy: 'full' },
      { version: 3, strategy: 'shadow' },
      { version: 3, strategy: 'blue-green' },
      { version: 3, strategy: 'ab', share: 0.5, labels: 100 },
    ]);

    platform.on('POST /registry/models/churn/promote', [409, { error_code: 'FAILED_PRECONDITION', message: 'churn v3 is not loaded by serving' }]);
    const refused = await mlops(['promote', 'churn', '3']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('409 FAILED_PRECONDITION: churn v3 is not loaded by serving; deploy it first: `mlops deploy churn 3`');
    platform.on('POST /registry/models/churn/promote', [200, { model: 'churn', champion: 2, previous_version: 1, changed: true }]);
    expect((await mlops(['promote', 'churn', '2'])).stdout).toBe('churn v2 is champion (was v1)\n');

    platform.on('POST /registry/models/churn/rollback', [200, { model: 'churn', rolled_back_version: 2, champion: 1 }]);
    expect((await mlops(['rollback', 'churn', '--reason', 'bad canary'])).stdout).toBe('churn: rolled back v2; champion is v1\n');
    expect(platform.requests('POST /registry/models/churn/rollback')[0]!.body).toEqual({ reason: 'bad canary' });
  });
});

describe('mlops loops', () => {
  const loop = (id: string, status: string, outcome: string | null) => ({
    correlationId: id, model: 'churn', status, outcome, outcomeReason: outcome ? 'canary promoted' : null, driftVersion: 1,
    driftedFeatures: ['monthly_charges'], candidateVersion: 2, startedAt: '2026-02-02T00:00:00Z', durationMs: null,
  });
  const stage = (type: string, ms: number, facts: Record<string, unknown> = {}) => ({ type, at: '', eventId: null, source: 's', facts, ignored: false, note: null, sinceStartMs: ms });

  it('lists the loops of a model', async () => {
    platform.on('GET /loop/api/loops', [200, { loops: [loop('aaaaaaaa-1', 'closed', 'promoted')] }]);
    const out = await mlops(['loops', '--model', 'churn']);
    expect(platform.seen[0]!.path).toBe('/loop/api/loops?model=churn');
    expect(out.stdout).toContain('aaaaaaaa  churn  closed  promoted  v1    v2         monthly_charges');
  });

  it('--watch waits for the next loop and prints its stages until it closes (exit 0 when promoted)', async () => {
    let lists = 0;
    platform.on('GET /loop/api/loops', () => [200, { loops: ++lists < 3 ? [loop('old-1', 'closed', 'rolled_back')] : [loop('new-2', 'open', null), loop('old-1', 'closed', 'rolled_back')] }]);
    let reads = 0;
    platform.on('GET /loop/api/loops/new-2', () => {
      reads++;
      const stages = [stage('drift.detected', 0, { version: 1 }), stage('retrain.requested', 100)];
      if (reads < 2) return [200, { loop: { ...loop('new-2', 'open', null), stages } }];
      return [200, { loop: { ...loop('new-2', 'closed', 'promoted'), stages: [...stages, stage('model.promoted', 2500, { version: 2 })] } }];
    });
    const out = await mlops(['loops', '--model', 'churn', '--watch', '--next', '--interval', '0.01']);
    expect(out.code).toBe(0);
    expect(out.stdout.trim().split('\n')).toEqual([
      'churn new-2 +0.0s drift.detected version=1',
      'churn new-2 +0.1s retrain.requested',
      'churn new-2 +2.5s model.promoted version=2',
      'churn new-2: promoted (candidate v2): canary promoted',
    ]);
    expect(out.stderr).toContain('waiting for a loop of churn to open');
  });

  it('--watch without --next shows the newest loop, closed already: its stages and outcome (exit 1 unless promoted)', async () => {
    platform.on('GET /loop/api/loops', [200, { loops: [loop('last-4', 'closed', 'rolled_back')] }]);
    platform.on('GET /loop/api/loops/last-4', [200, { loop: { ...loop('last-4', 'closed', 'rolled_back'), outcomeReason: 'canary worse', stages: [stage('drift.detected', 0)] } }]);
    const out = await mlops(['loops', '--watch', '--interval', '0.01']);
    expect(out.code).toBe(1);
    expect(out.stdout).toBe('churn last-4 +0.0s drift.detected\nchurn last-4: rolled_back (candidate v2): canary worse\n');
  });

  it('--watch --until stops at a stage; --timeout gives up with exit 1', async () => {
    platform.on('GET /loop/api/loops', [200, { loops: [loop('open-3', 'open', null)] }]);
    platform.on('GET /loop/api/loops/open-3', [200, { loop: { ...loop('open-3', 'open', null), stages: [stage('drift.detected', 0), stage('deployment.completed', 900, { version: 2, trafficShare: 0.1 })] } }]);
    const until = await mlops(['loops', '--watch', '--until', 'deployment.completed', '--interval', '0.01']);
    expect(until.code).toBe(0);
    expect(until.stdout).toContain('churn open-3 +0.9s deployment.completed version=2 trafficShare=0.1');
    const timeout = await mlops(['loops', '--watch', '--until', 'model.promoted', '--interval', '0.01', '--timeout', '0.05']);
    expect(timeout.code).toBe(1);
    expect(timeout.stderr).toContain('no model.promoted within 0.05s (loop open-3 is still open)');
  });
});

describe('mlops predict and labels', () => {
  beforeEach(() => {
    platform.on('GET /api/2.0/mlflow/registered-models/alias', [200, { model_version: { version: '1', run_id: 'run-1' } }]);
    platform.on('GET /api/2.0/mlflow/runs/get', [200, { run: { data: { params: [{ key: 'features', value: 'a,b' }] } } }]);
    platform.on('GET /serving/v2/models/churn', [200, { name: 'churn', inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 2] }] }]);
    platform.on('POST /serving/v2/models/churn/infer', (body) => {
      const { id, inputs } = body as { id: string; inputs: { shape: number[]; data: number[] }[] };
      const n = inputs[0]!.shape[0]!;
      return [200, {
        model_name: 'churn', model_version: '1', id,
        outputs: [
          { name: 'probabilities', datatype: 'FP32', shape: [n, 2], data: Array.from({ length: n }, () => [0.25, 0.75]).flat() },
          { name: 'label', datatype: 'INT64', shape: [n], data: Array.from({ length: n }, (_, i) => inputs[0]!.data[2 * i]! > 1 ? 1 : 0) },
        ],
        parameters: { model_version: '1', route: 'stable', prediction_ids: Array.from({ length: n }, (_, i) => `${id}:${i}`) },
      }];
    });
  });

  it('orders object rows by the features logged on the champion\'s run and sends a v2 REST infer', async () => {
    const out = await mlops(['predict', 'churn', '--json', '[{"b": 5, "a": 2}]']);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    expect(platform.requests('GET /api/2.0/mlflow/registered-models/alias')[0]!.path).toBe('/api/2.0/mlflow/registered-models/alias?name=churn&alias=champion');
    expect(platform.requests('GET /api/2.0/mlflow/runs/get')[0]!.path).toBe('/api/2.0/mlflow/runs/get?run_id=run-1');
    const infer = platform.requests('POST /serving/v2/models/churn/infer')[0]!.body as { id: string; inputs: unknown[] };
    expect(infer.inputs).toEqual([{ name: 'input', datatype: 'FP32', shape: [1, 2], data: [2, 5] }]);
    expect(out.stdout).toBe(`churn v1: 1 {"probabilities":[0.25,0.75],"label":1}  (prediction ${infer.id}:0)\n`);
    // Serving's metadata names the columns (a model with ONNX feature_names): no MLflow lookup.
    platform.on('GET /serving/v2/models/churn', [200, { name: 'churn', inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 2] }], parameters: { feature_names: ['b', 'a'] } }]);
    await mlops(['predict', 'churn', '--json', '[{"b": 5, "a": 2}]']);
    expect((platform.requests('POST /serving/v2/models/churn/infer')[1]!.body as { inputs: { data: number[] }[] }).inputs[0]!.data).toEqual([5, 2]);
    expect(platform.requests('GET /api/2.0/mlflow/')).toHaveLength(2);
    const missing = await mlops(['predict', 'churn', '--json', '[{"a": 1}]']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('row 1: feature "b" is missing; churn takes b, a');
  });

  it('predicts a file in batches, writes the prediction ids beside the ids, and labels joins them', async () => {
    writeFileSync(join(dir, 'rows.csv'), `id,a,b\n${Array.from({ length: 12 }, (_, i) => `u${i},${i},1`).join('\n')}\n`);
    const out = await mlops(['predict', 'churn', '--file', 'rows.csv', '--id', 'id', '--out', 'p.csv', '--batch-size', '5']);
    expect(out.code).toBe(0);
    expect(platform.requests('POST /serving/v2/models/churn/infer').map((s) => (s.body as { inputs: { shape: number[] }[] }).inputs[0]!.shape)).toEqual([[5, 2], [5, 2], [2, 2]]);
    expect(out.stdout).toContain('churn: 12 rows predicted (v1: 12)');
    const written = readFileSync(join(dir, 'p.csv'), 'utf8').trim().split('\n');
    expect(written[0]).toBe('id,prediction_id,model_version,prediction');
    expect(written[12]).toMatch(/^u11,[0-9a-f]{8}-10:1,1,1$/);
    // One row a request (the default): each request's routing sticks to the row's id.
    await mlops(['predict', 'churn', '--file', 'rows.csv', '--id', 'id']);
    const single = platform.requests('POST /serving/v2/models/churn/infer').slice(3).map((s) => s.body as { parameters?: { request_key: string } });
    expect(single.map((b) => b.parameters?.request_key).sort()).toEqual(Array.from({ length: 12 }, (_, i) => `u${i}`).sort());

    platform.on('POST /monitoring/labels', (body) => [202, { accepted: (body as { labels: unknown[] }).labels.length }]);
    writeFileSync(join(dir, 'labels.csv'), 'id,label\nu0,0\nu11,1\nu99,1\n');
    const labels = await mlops(['labels', 'labels.csv', '--predictions', 'p.csv']);
    expect(labels.code).toBe(0);
    const sent = (platform.requests('POST /monitoring/labels')[0]!.body as { labels: { predictionId: string; label: number }[] }).labels;
    expect(sent).toEqual([
      { predictionId: written[1]!.split(',')[1], label: 0 },
      { predictionId: written[12]!.split(',')[1], label: 1 },
    ]);
    expect(labels.stdout).toContain('labels: sent 2 from labels.csv, accepted 2; 1 rows had no prediction in p.csv (e.g. u99)');
  });

  it('labels with their own predictionId column go as they are, in batches', async () => {
    platform.on('POST /monitoring/labels', (body) => [202, { accepted: (body as { labels: unknown[] }).labels.length }]);
    writeFileSync(join(dir, 'l.jsonl'), '{"predictionId":"r1:0","label":1}\n{"predictionId":"r1:1","label":0}\n{"predictionId":"r2:0","label":1}\n');
    const out = await mlops(['labels', 'l.jsonl', '--batch-size', '2', '--json']);
    expect(JSON.parse(out.stdout)).toMatchObject({ sent: 3, accepted: 3 });
    expect(platform.requests('POST /monitoring/labels').map((s) => (s.body as { labels: unknown[] }).labels.length)).toEqual([2, 1]);
    writeFileSync(join(dir, 'x.csv'), 'id,label\nu1,1\n');
    expect((await mlops(['labels', 'x.csv'])).stderr).toContain('has no predictionId column; give --predictions');
  });
});

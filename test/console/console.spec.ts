import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import Database from 'better-sqlite3';
import { chromium, type Browser, type Page } from 'playwright-core';
import { runEmbedded } from '../../platform/embedded/src/embedded';
import { frontDoorIndex } from '../../platform/embedded/src/front-door/routes';
import { waitFor } from '../support/wait-for';
import { readmeBlocks } from '../support/readme';

/**
 * The web console in a real browser (Debian's chromium driven by playwright-core: $CHROMIUM,
 * from deploy/local/chromium.sh, else /usr/bin/chromium) against the embedded platform, after
 * its loop has run to promotion, held up while the tests look at it. Screenshots go to
 * test-artifacts/console/ (gitignored).
 */
const ROOT = resolve(__dirname, '../..');
const SHOTS = join(ROOT, 'test-artifacts/console');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const BULK_RUNS = 50_000;
const BULK_VERSIONS = 10_000;
const BULK_MODEL = 'console-10k';
const STEPS = [0, 1, 2, 3, 4];
/** What the console shows for a number (ui.tsx `num`). */
const shown = (value: number) => (Number.isInteger(value) ? String(value) : value.toPrecision(4));

interface Platform {
  url: string;
  model: string;
}

const mlflow = async <T,>(url: string, path: string, body?: unknown): Promise<T> => {
  const response = await fetch(`${url}/api/2.0/mlflow/${path}`, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
};

/** Two runs with 5-step loss curves, different learning rates and an artifact each, logged over REST as a client would. */
async function logCurveRuns(url: string) {
  const { experiment_id } = await mlflow<{ experiment_id: string }>(url, 'experiments/create', { name: 'console-curves' });
  const runs: { id: string; name: string; loss: number[]; lr: string }[] = [];
  for (const [name, lr, scale] of [
    ['curves-a', '0.1', 1],
    ['curves-b', '0.01', 2],
  ] as const) {
    const { run } = await mlflow<{ run: { info: { run_id: string } } }>(url, 'runs/create', { experiment_id, run_name: name, start_time: Date.now() });
    const loss = STEPS.map((s) => scale / (s + 1));
    await mlflow(url, 'runs/log-batch', {
      run_id: run.info.run_id,
      params: [
        { key: 'lr', value: lr },
        { key: 'epochs', value: '5' },
      ],
      metrics: STEPS.map((step) => ({ key: 'loss', value: loss[step], step, timestamp: Date.now() })),
    });
    const put = await fetch(`${url}/api/2.0/mlflow-artifacts/artifacts/${experiment_id}/${run.info.run_id}/artifacts/notes.txt`, { method: 'PUT', body: `notes of ${name}` });
    if (!put.ok) throw new Error(`artifact upload: ${put.status} ${await put.text()}`);
    await mlflow(url, 'runs/update', { run_id: run.info.run_id, status: 'FINISHED', end_time: Date.now() });
    runs.push({ id: run.info.run_id, name, loss, lr });
  }
  return { experimentId: experiment_id, runs };
}

/** 50,000 runs in one experiment, written straight into tracking's SQLite file in one transaction (50,000 HTTP calls would be the slow part). */
async function insertBulkRuns(url: string, dataDir: string): Promise<string> {
  const { experiment_id } = await mlflow<{ experiment_id: string }>(url, 'experiments/create', { name: 'console-50k' });
  const db = new Database(join(dataDir, 'tracking.db'));
  try {
    db.pragma('busy_timeout = 10000');
    const run = db.prepare(
      'INSERT INTO tracking_runs (run_uuid, experiment_id, name, user_id, status, start_time, end_time, lifecycle_stage, artifact_uri) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const metric = db.prepare('INSERT INTO tracking_latest_metrics (run_uuid, key, value, is_nan, timestamp, step) VALUES (?, ?, ?, 0, ?, 0)');
    const t0 = Date.UTC(2026, 0, 1);
    db.transaction(() => {
      for (let i = 0; i < BULK_RUNS; i++) {
        const id = `bulk${String(i).padStart(28, '0')}`;
        run.run(id, Number(experiment_id), `bulk-${i}`, 'console-test', 'FINISHED', t0 + i * 1000, t0 + i * 1000 + 500, 'active', `mlflow-artifacts:/${experiment_id}/${id}/artifacts`);
        metric.run(id, 'score', i / BULK_RUNS, t0 + i * 1000);
      }
    })();
  } finally {
    db.close();
  }
  return experiment_id;
}

/** A model of 10,000 versions, written straight into the registry's SQLite file in one transaction. */
function insertBulkVersions(dataDir: string) {
  const db = new Database(join(dataDir, 'registry.db'));
  try {
    db.pragma('busy_timeout = 10000');
    const t0 = Date.UTC(2026, 0, 1);
    const version = db.prepare(
      "INSERT INTO registry_model_versions (name, version, status, description, source, artifact_hash, artifact_uri, signature, metrics, creation_time, last_updated_time) VALUES (?, ?, 'READY', '', 'bulk', ?, '', '{}', '{}', ?, ?)",
    );
    db.transaction(() => {
      db.prepare("INSERT INTO registry_models (name, description, creation_time, last_updated_time) VALUES (?, '', ?, ?)").run(BULK_MODEL, t0, t0 + BULK_VERSIONS * 1000);
      for (let v = 1; v <= BULK_VERSIONS; v++) version.run(BULK_MODEL, v, 'b'.repeat(64), t0 + v * 1000, t0 + v * 1000);
    })();
  } finally {
    db.close();
  }
}

describe('web console in a real browser (chromium), against the embedded platform after its loop', () => {
  let dataDir: string;
  let platform: Platform;
  let running: Promise<unknown>;
  let release!: () => void;
  let browser: Browser;
  let page: Page;
  let curves: Awaited<ReturnType<typeof logCurveRuns>>;
  let bulkExperiment: string;
  const lines: string[] = [];
  const serious: { page: string; id: string; impact: string; help: string; targets: string[] }[] = [];

  /** Opens a console route, waits for its heading, keeps a screenshot and runs axe-core on it. */
  async function open(hash: string, heading: RegExp | string, shot: string) {
    await page.goto(`${platform.url}/${hash}`);
    await page.getByRole('heading', { level: 1, name: heading }).waitFor();
    await page.locator('[aria-busy="true"]').first().waitFor({ state: 'detached' });
    await page.screenshot({ path: join(SHOTS, `${shot}.png`), fullPage: true });
    const { violations } = await new AxeBuilder({ page }).analyze();
    for (const v of violations.filter((x) => x.impact === 'serious' || x.impact === 'critical')) {
      serious.push({ page: hash, id: v.id, impact: v.impact!, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')) });
    }
  }

  beforeAll(async () => {
    execFileSync(process.execPath, [join(ROOT, 'scripts/build-console.mjs')], { stdio: 'pipe' });
    mkdirSync(SHOTS, { recursive: true });
    dataDir = mkdtempSync(join(tmpdir(), 'mlops-console-'));
    const held = new Promise<void>((done) => (release = done));
    // The platform stays up (whileServing) until afterAll releases it.
    platform = await new Promise<Platform>((ready, fail) => {
      running = runEmbedded({
        dataDir,
        port: 0,
        grpcPort: 0,
        records: 800,
        shiftRecords: 800,
        windowSize: 150,
        promoteAfter: 30,
        epochs: 100,
        stepTimeoutMs: 20_000,
        serve: false,
        print: (line) => lines.push(line),
        whileServing: async ({ url, model }) => {
          ready({ url, model });
          await held;
        },
      }).then((summary) => fail(new Error(`the platform ended before serving: stopped at ${summary.stoppedAt}\n${lines.join('\n')}`)), fail);
    });
    curves = await logCurveRuns(platform.url);
    bulkExperiment = await insertBulkRuns(platform.url, dataDir);
    insertBulkVersions(dataDir);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    release?.();
    await running?.catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it("README's example: the browser at the URL `npm start -- --serve` prints gets the console", async () => {
    const [block] = readmeBlocks('Web console');
    expect(block).toMatch(/^npm start -- --serve\b.*http:\/\/127\.0\.0\.1:8080\//);
    await open('', 'Experiments', 'home');
    expect(await page.getByRole('navigation', { name: 'Sections' }).getByRole('link').allTextContents()).toEqual(['Experiments', 'Models', 'Loops', 'Monitoring']);
    expect(await page.getByRole('link', { name: 'console-curves' }).count()).toBe(1);
  }, 60_000);

  it('serves the console to browsers at / and keeps the JSON index for curl', async () => {
    const html = await fetch(`${platform.url}/`, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
    expect(html.headers.get('content-type')).toMatch(/^text\/html/);
    const body = await html.text();
    expect(body).toContain('<script type="module" src="/console/app.js">');
    const js = await fetch(`${platform.url}/console/app.js`);
    expect([js.status, js.headers.get('content-type')]).toEqual([200, 'text/javascript; charset=utf-8']);
    const curl = await fetch(`${platform.url}/`, { headers: { accept: '*/*' } });
    expect(curl.headers.get('content-type')).toBe('application/json');
    expect(await curl.json()).toEqual(frontDoorIndex());
    expect((await fetch(`${platform.url}/console/../package.json`)).status).toBe(404);
  }, 60_000);

  it("opens the mlflow client's run link (#/experiments/<id>/runs/<id>): the run's loss curve has its 5 points, and its artifact downloads", async () => {
    const [a] = curves.runs;
    await open(`#/experiments/${curves.experimentId}/runs/${a.id}`, `Run ${a.name}`, 'run');
    const chart = page.locator('figure.chart');
    await expect(chart.locator('canvas').first().isVisible()).resolves.toBe(true);
    const rows = await chart.locator('table.chart-data tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent)));
    expect(rows).toEqual(STEPS.map((s) => [String(s), shown(a.loss[s])]));
    const link = page.getByRole('link', { name: 'notes.txt' });
    const download = await page.request.get(new URL((await link.getAttribute('href'))!, platform.url).toString());
    expect(await download.text()).toBe(`notes of ${a.name}`);
  }, 60_000);

  it('compares selected runs: the parameter that differs is marked, both curves on one chart', async () => {
    await open(`#/experiments/${curves.experimentId}`, 'Runs of console-curves', 'runs');
    for (const r of curves.runs) await page.getByRole('checkbox', { name: `select ${r.name}` }).check();
    await page.getByRole('button', { name: 'Compare 2 selected runs' }).click();
    await page.getByRole('heading', { level: 1, name: 'Compare 2 runs' }).waitFor();
    await page.locator('table.chart-data tbody tr').first().waitFor({ state: 'attached' });
    const lr = page.locator('table.params tbody tr', { hasText: 'lr' });
    expect(await lr.getAttribute('class')).toBe('differs');
    expect(await lr.locator('td').allTextContents()).toEqual(curves.runs.map((r) => r.lr));
    expect(await page.locator('table.params tbody tr', { hasText: 'epochs' }).getAttribute('class')).toBeNull();
    const headers = await page.locator('table.chart-data thead th').allTextContents();
    expect(headers).toEqual(['step', ...curves.runs.map((r) => r.name)]);
    const rows = await page.locator('table.chart-data tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent)));
    expect(rows).toEqual(STEPS.map((s) => [String(s), ...curves.runs.map((r) => shown(r.loss[s]))]));
    await page.screenshot({ path: join(SHOTS, 'compare.png'), fullPage: true });
  }, 60_000);

  it('the model page shows each version with its aliases and its gate decision with both scores', async () => {
    const gate = (await (await fetch(`${platform.url}/registry/models/${platform.model}/versions/2/gate`)).json()) as {
      candidate_score: number;
      champion_score: number;
      champion_version: number;
      metric: string;
      checks: { name: string; passed: boolean | null; detail: string }[] | null;
    };
    await open(`#/models/${platform.model}`, `Model ${platform.model}`, 'model');
    const v2 = page.locator('table.versions tbody tr', { hasText: 'version 2' });
    const cells = await v2.locator('td').allTextContents();
    expect(cells).toEqual(['version 2', 'champion', 'Production', expect.any(String), '✓ passed', 'serving 100%', gate.metric, shown(gate.candidate_score), shown(gate.champion_score)]);
    expect(await page.locator('p.traffic').textContent()).toBe('Traffic: version 2 100% (deployed as canary) · champion: version 2');
    await page.getByRole('link', { name: 'version 2' }).click();
    await page.getByRole('heading', { level: 1, name: `${platform.model} version 2` }).waitFor();
    const table = page.locator('table.gate');
    expect(await table.locator('tr', { hasText: 'Candidate score' }).locator('td').textContent()).toBe(shown(gate.candidate_score));
    expect(await table.locator('tr', { hasText: 'Champion score' }).locator('td').textContent()).toBe(`${shown(gate.champion_score)} (version ${gate.champion_version})`);
    // Each check of the release policy in force, with what it compared.
    expect(gate.checks?.length).toBeGreaterThan(0);
    for (const check of gate.checks ?? []) {
      expect(await table.locator('tr', { hasText: `Check ${check.name}` }).locator('td').textContent()).toBe(`${check.passed === null ? '… pending' : check.passed ? '✓' : '✗'} ${check.detail}`);
    }
    await expect(page.getByRole('link', { name: /^[0-9a-f]{32}$/ }).count()).resolves.toBe(1);
    await page.screenshot({ path: join(SHOTS, 'model-version.png'), fullPage: true });
  }, 60_000);

  it('the loop timeline shows the stages in order, from drift to promotion, with times between them', async () => {
    await open(`#/loops?model=${platform.model}&outcome=promoted`, 'Loops', 'loops');
    await page.locator('table tbody tr a').first().click();
    await page.getByRole('heading', { level: 1, name: `Loop of ${platform.model}` }).waitFor();
    await page.locator('ol.timeline li').first().waitFor();
    await page.screenshot({ path: join(SHOTS, 'loop.png'), fullPage: true });
    const stages = await page.locator('ol.timeline li:not(.ignored) .stage').allTextContents();
    const order = ['drift.detected', 'retrain.requested', 'dataset.materialized', 'training.completed', 'model.registered', 'deployment.requested', 'canary.evaluated', 'model.promoted'];
    expect(stages.filter((s) => order.includes(s))).toEqual(order);
    const gaps = await page.locator('ol.timeline li .gap').allTextContents();
    expect(gaps[0]).toBe('start');
    expect(gaps.slice(1).every((g) => /^\+\d+(\.\d)? (ms|s)$|^\+\d+ min/.test(g)), gaps.join(' | ')).toBe(true);
    expect(await page.locator('dl.facts').textContent()).toContain('promoted');
  }, 60_000);

  it('monitoring names a shifted feature as drifted, with its statistic and threshold, and the canary verdict', async () => {
    await open(`#/monitoring/${platform.model}`, `Monitoring of ${platform.model}`, 'monitoring');
    const drifted = await page.locator('table.drift tbody tr.drifted').evaluateAll((trs) => trs.map((tr) => [...tr.children].slice(0, 5).map((c) => c.textContent)));
    // f0-f5 are the shifted columns (serving's keys are input[i] until monitoring maps them to names).
    expect(drifted.some(([feature]) => /^(f[0-5]|input\[[0-5]\])$/.test(feature!)), JSON.stringify(drifted)).toBe(true);
    for (const [, statistic, value, threshold, flag] of drifted) {
      expect(statistic).toMatch(/\w/);
      expect(Number(value)).toBeGreaterThan(Number(threshold));
      expect(flag).toBe('yes');
    }
    expect(await page.locator('p', { hasText: 'of features drifted' }).textContent()).toMatch(/\d+% of features drifted/);
    // Drift over time: the first drifted feature's statistic and threshold, one point a stored window.
    const [[feature, statistic]] = drifted;
    expect(await page.getByLabel('Feature', { exact: true }).inputValue()).toBe(feature);
    const chart = page.locator('figure.chart', { hasText: `Drift of ${feature}` });
    const label = (await chart.locator('[role="img"]').getAttribute('aria-label'))!;
    const points = Number(/, (\d+) points; threshold, \1 points$/.exec(label)?.[1]);
    expect(label.startsWith(`Drift of ${feature}, version `) && label.includes(`${statistic} of ${feature}`), label).toBe(true);
    expect(points).toBeGreaterThanOrEqual(1);
    await expect(chart.locator('canvas').first().isVisible()).resolves.toBe(true);
    const history = await chart.locator('table.chart-data tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent)));
    expect(history).toHaveLength(points);
    // The newest window is the one the table above shows: its value and threshold.
    const newest = drifted[0];
    expect(history[history.length - 1].slice(1)).toEqual([newest[2], newest[3]]);
    expect(await page.locator('p', { hasText: `${feature} of version` }).textContent()).toMatch(/drifted in [1-9]\d*\.$/);
    // Version 1 served the whole stream before the loop replaced it: a window after window.
    await page.getByLabel('Version', { exact: true }).selectOption('1');
    const v1 = page.locator('figure.chart', { hasText: `Drift of ${feature}, version 1` }).locator('table.chart-data tbody tr');
    await v1.first().waitFor({ state: 'attached' });
    expect(await v1.count()).toBeGreaterThanOrEqual(2);
    await page.screenshot({ path: join(SHOTS, 'drift-over-time-v1.png'), fullPage: true });
    expect(await page.locator('table', { hasText: 'Verdict' }).locator('tbody tr').first().textContent()).toMatch(/version 2.*promote.*95%/);
  }, 60_000);

  it(`pages an experiment of ${BULK_RUNS.toLocaleString('en')} runs server-side: one page of 50 at a time`, async () => {
    const searches: number[] = [];
    page.on('response', (response) => {
      if (response.url().endsWith('/api/2.0/mlflow/runs/search')) {
        void response.json().then(
          (body: { runs?: unknown[] }) => searches.push(body.runs?.length ?? 0),
          () => undefined,
        );
      }
    });
    await open(`#/experiments/${bulkExperiment}`, 'Runs of console-50k', 'runs-50k');
    const names = () => page.locator('table.runs tbody tr td:nth-child(2)').allTextContents();
    const first = await names();
    expect(first).toHaveLength(50);
    expect(first[0]).toBe(`bulk-${BULK_RUNS - 1}`);
    await page.getByRole('button', { name: 'Next page' }).click();
    await page.getByText('Page 2 (50 runs)').waitFor();
    const second = await names();
    expect(second[0]).toBe(`bulk-${BULK_RUNS - 51}`);
    await page.getByRole('button', { name: 'Previous page' }).click();
    await page.getByText('Page 1 (50 runs)').waitFor();
    expect(await names()).toEqual(first);
    // A filter goes to the server in MLflow's syntax.
    await page.getByLabel('Filter (MLflow search syntax)').fill("metrics.score < 0.0001");
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText('Page 1 (5 runs)').waitFor();
    expect(await names()).toEqual(['bulk-4', 'bulk-3', 'bulk-2', 'bulk-1', 'bulk-0']);
    expect(searches.every((n) => n <= 50) && searches.length >= 4, JSON.stringify(searches)).toBe(true);
  }, 60_000);

  it('deploys a version as a canary after a confirmation: the traffic split changes', async () => {
    await open(`#/models/${platform.model}/versions/1`, `${platform.model} version 1`, 'deploy');
    await page.getByLabel('API token').fill('console-token');
    await page.getByRole('button', { name: 'Use token' }).click();
    await page.getByRole('button', { name: 'Saved' }).waitFor();
    const traffic = page.locator('p.traffic');
    await traffic.waitFor();
    expect(await traffic.textContent()).toBe('Traffic: version 2 100% (deployed as canary) · champion: version 2');
    await page.getByRole('button', { name: 'Deploy version 1' }).click();
    const dialog = page.getByRole('dialog', { name: `Deploy version 1 of ${platform.model}?` });
    await dialog.getByRole('radio', { name: /^Canary/ }).check();
    await dialog.getByLabel('Canary share (between 0 and 1)').fill('0.25');
    await page.screenshot({ path: join(SHOTS, 'deploy-dialog.png') });
    // The API token typed in the header goes with the action (the platform here has none, so any passes).
    const deployRequest = page.waitForRequest((r) => r.url().endsWith(`/registry/models/${platform.model}/deploy`));
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    const sent = await deployRequest;
    expect([sent.method(), sent.headers().authorization, sent.postDataJSON()]).toEqual(['POST', 'Bearer console-token', { version: 1, strategy: 'canary', share: 0.25 }]);
    await page.getByRole('status').getByText(/^Deployment/).waitFor();
    expect(await page.getByRole('status').textContent()).toMatch(/^Deployment of version 1 requested: canary at 25% of the traffic \(correlation [\w-]+\)\. Serving's answer shows under Traffic\.$/);
    await page.getByText('Traffic: version 2 75% (deployed as canary), version 1 25% (deployed as canary) · champion: version 2').waitFor({ timeout: 15_000 });
    await page.screenshot({ path: join(SHOTS, 'deployed-canary.png'), fullPage: true });
    await page.getByLabel('API token').fill('');
    await page.getByRole('button', { name: 'Use token' }).click();
    await page.getByRole('heading', { level: 1, name: `${platform.model} version 1` }).waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('mlops.apiToken'))).toBeNull();
  }, 60_000);

  it('promotes a version and rolls it back, each after a confirmation, showing what the registry answered', async () => {
    // Promote refuses a version serving has not loaded (v1 was replaced by v2; the canary above may still be loading): deploy it in full first.
    const deployed = await fetch(`${platform.url}/registry/models/${platform.model}/deploy`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ version: 1, strategy: 'full' }) });
    expect(deployed.status).toBe(202);
    await waitFor(async () => {
      const { models } = (await (await fetch(`${platform.url}/registry/models`)).json()) as { models: { name: string; serving: { version: number }[] }[] };
      return models.find((m) => m.name === platform.model)?.serving.some((s) => s.version === 1) || undefined;
    }, 'serving to load version 1');
    await open(`#/models/${platform.model}/versions/1`, `${platform.model} version 1`, 'version-1');
    await page.getByRole('button', { name: 'Promote version 1' }).click();
    const dialog = page.getByRole('dialog', { name: `Promote version 1 of ${platform.model} to champion?` });
    await dialog.getByLabel('Reason').fill('console test');
    await page.screenshot({ path: join(SHOTS, 'promote-dialog.png') });
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await page.getByRole('status').getByText(/^Version/).waitFor();
    expect(await page.getByRole('status').textContent()).toBe('Version 1 is champion (was version 2).');
    await page.locator('dl.facts dd', { hasText: 'champion' }).waitFor();
    const aliases = async () => ((await (await fetch(`${platform.url}/api/2.0/mlflow/registered-models/get?name=${platform.model}`)).json()) as { registered_model: { aliases: unknown } }).registered_model.aliases;
    expect(await aliases()).toEqual([{ alias: 'champion', version: '1' }]);
    await page.getByRole('button', { name: 'Roll back champion' }).click();
    await page.getByRole('dialog', { name: `Roll back the champion of ${platform.model}?` }).getByRole('button', { name: 'Confirm' }).click();
    await page.getByRole('status').getByText(/^Rolled back/).waitFor();
    expect(await page.getByRole('status').textContent()).toBe('Rolled back version 1: version 2 is champion again.');
    expect(await aliases()).toEqual([{ alias: 'champion', version: '2' }]);
  }, 60_000);

  it(`pages a model of ${BULK_VERSIONS.toLocaleString('en')} versions server-side: 25 at a time, newest first`, async () => {
    const listings: number[] = [];
    page.on('response', (response) => {
      if (response.url().includes(`/registry/models/${BULK_MODEL}/versions?`)) {
        void response.json().then(
          (body: { versions?: unknown[] }) => listings.push(body.versions?.length ?? 0),
          () => undefined,
        );
      }
    });
    await open(`#/models/${BULK_MODEL}`, `Model ${BULK_MODEL}`, 'model-10k');
    const versions = () => page.locator('table.versions tbody tr td:first-child').allTextContents();
    const first = await versions();
    expect(first).toEqual(Array.from({ length: 25 }, (_, i) => `version ${BULK_VERSIONS - i}`));
    await page.getByRole('button', { name: 'Next page' }).click();
    await page.getByText('Page 2 (25 versions)').waitFor({ timeout: 15_000 });
    expect(await versions()).toEqual(Array.from({ length: 25 }, (_, i) => `version ${BULK_VERSIONS - 25 - i}`));
    expect(listings.length >= 2 && listings.every((n) => n === 25), JSON.stringify(listings)).toBe(true);
    // The models page finds it by name, one page of models.
    await open('#/models', 'Registered models', 'models');
    await page.getByLabel('Name contains').fill('10k');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText('Page 1 (1 models)').waitFor({ timeout: 15_000 });
    expect(await page.locator('table tbody tr').first().locator('td').allTextContents()).toEqual([BULK_MODEL, '–', String(BULK_VERSIONS), expect.any(String)]);
  }, 60_000);

  it('has no serious or critical accessibility violations (axe-core) on the pages visited', () => {
    expect(serious).toEqual([]);
  });
});

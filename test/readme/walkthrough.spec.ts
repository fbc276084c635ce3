import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runEmbedded, type EmbeddedOptions, type EmbeddedSummary } from '../../platform/embedded/src/embedded';
import { readmeBlocks } from '../support/readme';

/**
 * README "Bring your own data", as written: its first block (`npm start -- --serve ...`) is
 * the embedded platform this spec starts (with its flags; port 0 for 8080, and a smaller demo
 * stream than `npm start`'s 3,000 records, since the demo's own size does not matter to the
 * walkthrough), every later block runs in bash from the repository root with MLOPS_URL set to
 * that platform. A block that follows the loop (`--watch`) runs only when every block before
 * it passed: it waits on what they set up.
 */
const ROOT = resolve(__dirname, '../..');
const OUTPUTS = ['predictions.csv', 'canary.csv'];

interface BlockRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function bash(script: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<BlockRun> {
  return new Promise((done) => {
    const child = spawn('bash', ['-euo', 'pipefail', '-c', script], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${timeoutMs / 1000}s)`;
      child.kill('SIGTERM');
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

/** The platform's options from the README's `npm start -- --serve ...` line. */
function startOptions(line: string): Partial<EmbeddedOptions> {
  const match = /^npm start -- --serve((?: --[a-z-]+ \S+)*)\s*$/.exec(line.trim());
  if (!match) throw new Error(`the walkthrough's first block is not \`npm start -- --serve [--flag value ...]\`: ${line}`);
  const options: Partial<EmbeddedOptions> = {};
  for (const [, flag, value] of match[1]!.matchAll(/--([a-z-]+) (\S+)/g)) {
    if (flag === 'promote-after') options.promoteAfter = Number(value);
    else if (flag === 'window') options.windowSize = Number(value);
    else if (flag === 'label-share') options.labelShare = Number(value);
    else throw new Error(`walkthrough.spec.ts does not map --${flag} yet`);
  }
  return options;
}

describe('README "Bring your own data", run as written against the embedded platform', () => {
  const blocks = readmeBlocks('Bring your own data');
  const runs: BlockRun[] = [];
  let applyAgain: BlockRun | undefined;
  let dataDir: string;
  let summary: EmbeddedSummary;
  const lines: string[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'mlops-walkthrough-'));
    summary = await runEmbedded({
      dataDir,
      port: 0,
      grpcPort: 0,
      records: 600,
      epochs: 100,
      stepTimeoutMs: 30_000,
      serve: false,
      print: (line) => lines.push(line),
      ...startOptions(blocks[0]!),
      whileServing: async ({ url }) => {
        const env = { ...process.env, MLOPS_URL: url, API_TOKEN: '' };
        for (const block of blocks.slice(1)) {
          if (block.includes('--watch') && runs.some((r) => r.code !== 0)) {
            runs.push({ code: null, stdout: '', stderr: `not run: block ${runs.findIndex((r) => r.code !== 0) + 2} failed` });
            continue;
          }
          runs.push(await bash(block, env, 300_000));
          if (block.includes('mlops apply')) applyAgain = await bash('npx mlops apply -f examples/churn', env, 60_000);
        }
      },
    });
  }, 900_000);
  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
    for (const file of OUTPUTS) rmSync(join(ROOT, file), { force: true });
  });

  const block = (n: number, mustContain: string) => {
    const found = blocks[n];
    if (!found?.includes(mustContain)) throw new Error(`README "Bring your own data" block ${n + 1} should contain "${mustContain}":\n${found}`);
    const run = runs[n - 1];
    if (!run) throw new Error(`block ${n + 1} did not run (the platform stopped early):\n${lines.join('\n')}`);
    expect(run.code, `block ${n + 1} exited ${run.code}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`).toBe(0);
    return run.stdout;
  };

  it('starts the platform with `npm start -- --serve` (its demo loop completes beside the walkthrough)', () => {
    expect(blocks[0]).toMatch(/^npm start -- --serve/);
    expect(summary.completed, lines.join('\n')).toBe(true);
  });

  it("status: every service's readiness through the front door", () => {
    expect(block(1, 'npx mlops status')).toMatch(/^all 8 services ready at http:\/\/127\.0\.0\.1:\d+$/m);
  });

  it('apply: contract, feature view and the loop feature view; a second apply changes nothing', () => {
    const out = block(2, 'npx mlops apply -f examples/churn');
    expect(out).toContain('contract customers: created v1\n');
    expect(out).toContain('feature view churn_features: v1 (created), backfilled 0 rows\n');
    expect(out).toContain('model churn: the loop retrains it from feature view churn_features; training params for `mlops train churn -f examples/churn`: {"algorithm":"mlp"');
    expect(applyAgain?.stdout).toContain('contract customers: unchanged (v1)\n');
    expect(applyAgain?.stdout).toContain('feature view churn_features: v1 (unchanged)\n');
  });

  it("ingests January: 1198 accepted, the two broken rows rejected with their line and the contract's reason", () => {
    expect(block(3, 'customers.csv --source customers')).toBe(
      [
        'customers: 1200 records from examples/churn/customers.csv, accepted 1198, rejected 2 (contract v1)',
        '  line 43 (C00042): monthly_charges: Too small: expected number to be >=0',
        '  line 979 (C00978): churned: Too big: expected number to be <=1',
        '',
      ].join('\n'),
    );
  });

  it('dataset, training (registered and gated), deployment, the model, a first prediction', () => {
    const out = block(4, 'npx mlops train churn -f examples/churn');
    expect(out).toMatch(/^dataset churn_features-v1: 1198 rows of churn_features, sha256 [0-9a-f]{12}$/m);
    expect(out).toMatch(/^ {2}not trained/m);
    expect(out).toMatch(/^job \S+: completed, run \S+: .*accuracy 0\.\d{3}/m);
    expect(out).toMatch(/^ {2}registered as churn v1; gate: pass/m);
    expect(out).toMatch(/^ {2}serving churn v1$/m);
    expect(out).toMatch(/^v1\s+\S+\s+champion/m);
    expect(out).toMatch(/^churn v1: 1 \{"probabilities":\[[^\]]+\],"label":1\} {2}\(prediction \S+:0\)$/m);
  });

  it('February: shifted records ingested, customers scored, labels accepted, drift opens a loop that deploys a canary', () => {
    const out = block(5, 'npx mlops loops --model churn --watch --until deployment.completed');
    expect(out).toContain('customers: 600 records from examples/churn/shifted.csv, accepted 600, rejected 0');
    // Drift is tested on the first window of 300 predictions: the canary may take some of the rest.
    expect(out).toMatch(/^churn: 600 rows predicted \(v1: \d+(, v2: \d+)?\)$/m);
    expect(out).toContain('labels: sent 600 from examples/churn/labels.csv, accepted 600');
    // Drift or the accuracy the labels show, whichever monitoring reports first, opens the loop.
    expect(out, out).toMatch(/^churn \S+ \+0\.0s (drift\.detected|performance\.degraded)/m);
    expect(out).toMatch(/ retrain\.requested/);
    expect(out).toMatch(/ deployment\.completed version=2 status=serving trafficShare=0\.1/);
  });

  it('the canary is judged on live labels and promoted: v2 is champion', () => {
    const out = block(6, 'npx mlops loops --model churn --watch');
    expect(out).toMatch(/^churn: 600 rows predicted \(v1: \d+, v2: \d+\)$/m);
    expect(out).toMatch(/ model\.promoted version=2/);
    expect(out).toMatch(/^churn \S+: promoted \(candidate v2\)/m);
    expect(out).toMatch(/^v2\s+\S+\s+champion/m);
  });
});

import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readmeBlocks } from '../support/readme';

/**
 * README "Bring your own data", as written, against one platform: the section's start blocks
 * (`npm start -- --serve ...` for embedded mode, `... bash deploy/local/platform.sh start` for
 * distributed mode) belong to the spec of their mode; every other block runs in bash from the
 * repository root with MLOPS_URL set to that platform's front door, and both modes check the
 * same outputs (walkthroughTests). A block that follows the loop (`--watch`) runs only when
 * every block before it passed: it waits on what they set up.
 */
export const ROOT = resolve(__dirname, '../..');
const OUTPUTS = ['predictions.csv', 'canary.csv'];

export interface BlockRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function bash(script: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<BlockRun> {
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

const isEmbeddedStart = (block: string) => /^npm start -- --serve/.test(block.trim());
const isDistributedStart = (block: string) => /^(?:[A-Z_]+=\S+ )*bash deploy\/local\/platform\.sh start\s*$/.test(block.trim());

/** The section's blocks: the start command of each mode, then the walkthrough's steps in order. */
export function walkthroughBlocks(): { embeddedStart: string; distributedStart: string; steps: string[] } {
  const blocks = readmeBlocks('Bring your own data');
  const one = (what: string, test: (block: string) => boolean) => {
    const found = blocks.filter(test);
    if (found.length !== 1) throw new Error(`README "Bring your own data" should have one ${what} block, has ${found.length}`);
    return found[0]!;
  };
  return {
    embeddedStart: one('`npm start -- --serve ...`', isEmbeddedStart),
    distributedStart: one('`[VAR=value ...] bash deploy/local/platform.sh start`', isDistributedStart),
    steps: blocks.filter((b) => !isEmbeddedStart(b) && !isDistributedStart(b)),
  };
}

/** A platform the walkthrough runs against. */
export interface WalkthroughPlatform {
  /** Starts it (or is started), runs `walk` with its front door's URL while it serves. */
  serve(walk: (url: string) => Promise<void>): Promise<void>;
  /** What it printed, for a failure message. */
  log(): string;
}

/** The walkthrough's checks, registered in the caller's describe: the same for every mode. */
export function walkthroughTests(platform: WalkthroughPlatform): void {
  const { steps } = walkthroughBlocks();
  const runs: BlockRun[] = [];
  let applyAgain: BlockRun | undefined;

  beforeAll(async () => {
    await platform.serve(async (url) => {
      const env = { ...process.env, MLOPS_URL: url, API_TOKEN: '' };
      for (const step of steps) {
        if (step.includes('--watch') && runs.some((r) => r.code !== 0)) {
          runs.push({ code: null, stdout: '', stderr: `not run: step ${runs.findIndex((r) => r.code !== 0) + 1} failed` });
          continue;
        }
        runs.push(await bash(step, env, 300_000));
        if (step.includes('mlops apply')) applyAgain = await bash('npx mlops apply -f examples/churn', env, 60_000);
      }
    });
  }, 900_000);
  afterAll(() => {
    for (const file of OUTPUTS) rmSync(join(ROOT, file), { force: true });
  });

  /** Step n (0-based, start blocks not counted): it must exist as written and have exited 0. */
  const step = (n: number, mustContain: string) => {
    const found = steps[n];
    if (!found?.includes(mustContain)) throw new Error(`README "Bring your own data" step ${n + 1} should contain "${mustContain}":\n${found}`);
    const run = runs[n];
    if (!run) throw new Error(`step ${n + 1} did not run (the platform stopped early):\n${platform.log()}`);
    expect(run.code, `step ${n + 1} exited ${run.code}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}\n${platform.log()}`).toBe(0);
    return run.stdout;
  };

  it("status: every service's readiness through the front door", () => {
    expect(step(0, 'npx mlops status')).toMatch(/^all 8 services ready at http:\/\/127\.0\.0\.1:\d+$/m);
  });

  it('apply: contract, feature view and the loop feature view; a second apply changes nothing', () => {
    const out = step(1, 'npx mlops apply -f examples/churn');
    expect(out).toContain('contract customers: created v1\n');
    expect(out).toContain('feature view churn_features: v1 (created), backfilled 0 rows\n');
    expect(out).toContain('model churn: the loop retrains it from feature view churn_features with training params {"algorithm":"mlp","hiddenLayers":[16],"epochs":150,"seed":7} (as `mlops train churn -f examples/churn` does)\n');
    expect(applyAgain?.stdout).toContain('contract customers: unchanged (v1)\n');
    expect(applyAgain?.stdout).toContain('feature view churn_features: v1 (unchanged)\n');
  });

  it("ingests January: 1198 accepted, the two broken rows rejected with their line and the contract's reason", () => {
    expect(step(2, 'customers.csv --source customers')).toBe(
      [
        'customers: 1200 records from examples/churn/customers.csv, accepted 1198, rejected 2 (contract v1)',
        '  line 43 (C00042): monthly_charges: Too small: expected number to be >=0',
        '  line 979 (C00978): churned: Too big: expected number to be <=1',
        '',
      ].join('\n'),
    );
  });

  it('dataset, training (registered and gated), deployment, the model, a first prediction', () => {
    const out = step(3, 'npx mlops train churn -f examples/churn');
    expect(out).toMatch(/^dataset churn_features-v1: 1198 rows of churn_features, sha256 [0-9a-f]{12}$/m);
    expect(out).toMatch(/^ {2}not trained/m);
    expect(out).toMatch(/^job \S+: completed, run \S+: .*accuracy 0\.\d{3}/m);
    expect(out).toMatch(/^ {2}registered as churn v1; gate: pass/m);
    expect(out).toMatch(/^ {2}serving churn v1$/m);
    expect(out).toMatch(/^v1\s+\S+\s+champion/m);
    expect(out).toMatch(/^churn v1: 1 \{"probabilities":\[[^\]]+\],"label":1\} {2}\(prediction \S+:0\)$/m);
  });

  it('February: shifted records ingested, customers scored, labels accepted, drift opens a loop that deploys a canary', () => {
    const out = step(4, 'npx mlops loops --model churn --watch --until deployment.completed');
    expect(out).toContain('customers: 600 records from examples/churn/shifted.csv, accepted 600, rejected 0');
    // Drift is tested on the first window of predictions: the canary may take some of the rest.
    expect(out).toMatch(/^churn: 600 rows predicted \(v1: \d+(, v2: \d+)?\)$/m);
    expect(out).toContain('labels: sent 600 from examples/churn/labels.csv, accepted 600');
    // Drift or the accuracy the labels show, whichever monitoring reports first, opens the loop.
    expect(out, out).toMatch(/^churn \S+ \+0\.0s (drift\.detected|performance\.degraded)/m);
    expect(out).toMatch(/ retrain\.requested/);
    // The retrain trains with the project's params, which `mlops apply` set in the loop: an MLP
    // (the trainer's own default, TRAINER_PARAMS, is the linear model).
    expect(out).toMatch(/ training\.started trainer=builtin:mlp$/m);
    expect(out).toMatch(/ deployment\.completed version=2 status=serving trafficShare=0\.1/);
  });

  it('the canary is judged on live labels and promoted: v2 is champion', () => {
    const out = step(5, 'npx mlops loops --model churn --watch');
    expect(out).toMatch(/^churn: 600 rows predicted \(v1: \d+, v2: \d+\)$/m);
    expect(out).toMatch(/ model\.promoted version=2/);
    expect(out).toMatch(/^churn \S+: promoted \(candidate v2\)/m);
    expect(out).toMatch(/^v2\s+\S+\s+champion/m);
  });
}

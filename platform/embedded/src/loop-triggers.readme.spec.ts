import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import type { RequestListener } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { InProcessTransport } from '@mlops/bus';
import { loadLoopConfig, startLoop, type LoopApp } from '@mlops/service-loop';
import { readmeBlocks } from '../../../test/support/readme';
import { startFrontDoor, type FrontDoor } from './front-door/front-door';

/** The root README's retrain-trigger examples ("Loop controller service"), run through the front door as written. */
describe('README "Loop controller service": the trigger examples run through the front door', () => {
  let dir: string;
  let frontDoor: FrontDoor;
  let loop: LoopApp;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'loop-readme-'));
    frontDoor = await startFrontDoor({ port: 0 });
    loop = await startLoop(loadLoopConfig({ BUS: 'in-process', DATABASE_URL: `sqlite:${join(dir, 'loop.db')}`, LOOP_FEATURE_VIEWS: 'churn:churn_features' }), {
      inProcess: new InProcessTransport(),
      logger: false,
      defaultMetrics: false,
      mountedAt: frontDoor.urlOf('loop'),
    });
    frontDoor.mount('loop', loop.app.getHttpAdapter().getInstance() as RequestListener);
  });
  afterAll(async () => {
    await loop?.close();
    await frontDoor?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('PUT, GET one, GET all, a bad PUT, a manual run and the loops it opened answer as the README shows', async () => {
    const block = readmeBlocks('Loop controller service').find((b) => b.includes('/loop/api/triggers'));
    if (!block) throw new Error('README "Loop controller service" has no bash block with /loop/api/triggers');
    const script = block.replaceAll('127.0.0.1:8080', new URL(frontDoor.url).host).replace(/^curl (?!-s )/gm, 'curl -fsS ');
    const { stdout } = await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', script.replace(/\n(curl)/g, '\necho; $1')], { timeout: 30_000 });
    const [put, one, all, bad, run, manual] = stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(put).toMatchObject({
      trigger: { model: 'churn', drift: true, performance: false, schedule: '0 3 * * 1', newData: { rows: 5000 }, configured: true, newDataCounted: 0, recentSlots: [] },
    });
    expect((put!.trigger as { nextScheduledAt: string }).nextScheduledAt).toMatch(/T03:00:00\.000Z$/);
    expect(one).toEqual(put);
    expect(all).toMatchObject({ defaults: { drift: true, performance: true, schedule: null, newData: null }, triggers: [put!.trigger] });
    expect(bad).toEqual({
      error_code: 'INVALID_PARAMETER_VALUE',
      message: expect.stringMatching(/^schedule: "every monday" is not valid: expected a cron expression of 5 fields .* or 6 \(seconds first\); newData\.rows: expected at least 1 row$/),
      issues: [
        { field: 'schedule', message: expect.stringMatching(/^"every monday" is not valid: expected a cron expression/) },
        { field: 'newData.rows', message: 'expected at least 1 row' },
      ],
    });
    expect(run).toMatchObject({ loop: { model: 'churn', status: 'open', trigger: 'manual', featureView: 'churn_features' } });
    expect(manual).toEqual({ loops: [run!.loop] });
    // Bad input changed nothing.
    expect((await (await fetch(`${frontDoor.url}/loop/api/triggers/churn`)).json()) as unknown).toEqual(put);
  });
});

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import type { RequestListener } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { EventBus, InProcessTransport } from '@mlops/bus';
import { createEvent } from '@mlops/contracts';
import { loadLoopConfig, startLoop, type LoopApp } from '@mlops/service-loop';
import { readmeBlocks } from '../../../test/support/readme';
import { waitFor } from '../../../test/support/wait-for';
import { failFirst, WebhookReceiver } from '../../../test/support/webhook-receiver';
import { startFrontDoor, type FrontDoor } from './front-door/front-door';

/** The root README's webhook examples ("Notifications (webhooks)"), run through the front door as written. */
describe('README "Notifications (webhooks)": the examples run through the front door', () => {
  let dir: string;
  let frontDoor: FrontDoor;
  let loop: LoopApp;
  let receiver: WebhookReceiver;
  const transport = new InProcessTransport();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'loop-webhooks-readme-'));
    receiver = await new WebhookReceiver(failFirst).start();
    frontDoor = await startFrontDoor({ port: 0 });
    loop = await startLoop(
      loadLoopConfig({ BUS: 'in-process', DATABASE_URL: `sqlite:${join(dir, 'loop.db')}`, LOOP_WEBHOOK_RETRY_BASE_MS: '100', LOOP_WEBHOOK_POLL_MS: '50' }),
      { inProcess: transport, logger: false, defaultMetrics: false, mountedAt: frontDoor.urlOf('loop') },
    );
    frontDoor.mount('loop', loop.app.getHttpAdapter().getInstance() as RequestListener);
  });
  afterAll(async () => {
    await loop?.close();
    await frontDoor?.close();
    await receiver?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const runBlock = async (includes: string) => {
    const block = readmeBlocks('Notifications (webhooks)').find((b) => b.includes(includes));
    if (!block) throw new Error(`README "Notifications (webhooks)" has no bash block with ${includes}`);
    const script = block
      .replaceAll('127.0.0.1:8080', new URL(frontDoor.url).host)
      .replaceAll('https://hooks.example.com/mlops', `${receiver.url}/mlops`)
      .replace(/^curl (?!-s )/gm, 'curl -fsS ');
    const { stdout } = await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', script.replace(/\n(curl)/g, '\necho; $1')], { timeout: 30_000 });
    return stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
  };

  it('creates a webhook, lists it, refuses a bad one naming each field; a rollback reaches it, retried after a 500; the delivery log shows it; DELETE removes it', async () => {
    const [created, list, bad] = await runBlock('-d \'{"url":"https://hooks.example.com/mlops"');
    const webhook = created!.webhook as { id: string };
    expect(webhook).toEqual({
      id: expect.any(String),
      url: `${receiver.url}/mlops`,
      events: ['model.rolled_back', 'gate.rejected', 'loop.failed', 'loop.stalled'],
      model: 'churn',
      createdAt: expect.any(String),
    });
    expect(list).toEqual({ webhooks: [webhook] });
    expect(bad).toMatchObject({
      error_code: 'INVALID_PARAMETER_VALUE',
      message: expect.stringMatching(/^url: expected an http\(s\) URL .*; secret: expected at least 16 characters; events\.0: expected one of gate\.rejected, model\.rolled_back, /),
      issues: [{ field: 'url' }, { field: 'secret' }, { field: 'events.0' }],
    });

    const event = createEvent('model.rolled_back', { source: 'readme', subject: 'churn', data: { model: 'churn', version: 2, restoredVersion: 1, reason: 'canary accuracy 0.6 vs 0.9' } });
    await new EventBus(transport).publish(event);
    await waitFor(() => receiver.at('/mlops').some((r) => r.answered === 200), 'the retried delivery answered 200', 10_000);

    const [log, deleted] = await runBlock('/deliveries');
    expect(log).toEqual({
      deliveries: [
        {
          id: receiver.at('/mlops')[0]!.headers['x-mlops-delivery-id'],
          notificationId: event.id,
          event: 'model.rolled_back',
          model: 'churn',
          status: 'delivered',
          attempts: 2,
          statusCode: 200,
          lastError: null,
          deliveredAt: expect.any(String),
          nextAttemptAt: null,
          createdAt: expect.any(String),
        },
      ],
    });
    expect(deleted).toEqual({ deleted: webhook.id });
    expect((await fetch(`${frontDoor.url}/loop/api/webhooks`).then((r) => r.json())) as unknown).toEqual({ webhooks: [] });
  });
});

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { interopPython } from '../../../../test/support/python';
import { signedHeaders } from './signing';

/** The fenced ```python block of the root README's "Notifications (webhooks)" section. */
function readmeVerifySnippet(): string {
  const text = readFileSync(resolve(__dirname, '../../../../README.md'), 'utf8');
  const start = text.indexOf('\n## Notifications (webhooks)\n');
  const section = text.slice(start, text.indexOf('\n## ', start + 1));
  const block = /```python\n([\s\S]*?)```/.exec(section)?.[1];
  if (start < 0 || !block) throw new Error('README "Notifications (webhooks)" has no python block');
  return block;
}

describe('webhook signatures against Python (python tier)', () => {
  const secret = 'a-long-random-shared-secret';
  const body = JSON.stringify({ id: 'e-1', event: 'model.rolled_back', model: 'churn', occurredAt: '2026-01-01T00:00:00.000Z', data: { version: 2, reason: 'ünïcode ✓' } });
  const headers = signedHeaders(secret, '4b1d6f0e-delivery', Date.now(), body);

  it("equals MLflow's own signature (mlflow.webhooks.delivery._generate_hmac_signature)", () => {
    const script = [
      'import json, sys',
      'from mlflow.webhooks.delivery import _generate_hmac_signature',
      'd = json.load(sys.stdin)',
      "print(_generate_hmac_signature(d['secret'], d['id'], d['timestamp'], d['body']))",
    ].join('\n');
    const input = JSON.stringify({ secret, id: headers['x-mlops-delivery-id'], timestamp: headers['x-mlops-timestamp'], body });
    expect(execFileSync(interopPython(), ['-c', script], { input, encoding: 'utf8' }).trim()).toBe(headers['x-mlops-signature']);
    // Importing mlflow takes seconds.
  }, 60_000);

  it("the README's verification snippet accepts a delivery as sent and refuses a changed body, a wrong secret and an old timestamp", () => {
    const script = `${readmeVerifySnippet()}
import json, sys
d = json.load(sys.stdin)
h, body = d['headers'], d['body'].encode()
old = dict(h, **{'X-MLOps-Timestamp': str(int(h['X-MLOps-Timestamp']) - 3600)})
print(json.dumps([verify(d['secret'], h, body), verify(d['secret'], h, body + b' '), verify('another-secret-value', h, body), verify(d['secret'], old, body)]))
`;
    const sent = { 'X-MLOps-Delivery-Id': headers['x-mlops-delivery-id'], 'X-MLOps-Timestamp': headers['x-mlops-timestamp'], 'X-MLOps-Signature': headers['x-mlops-signature'] };
    const out = execFileSync(interopPython(), ['-c', script], { input: JSON.stringify({ secret, headers: sent, body }), encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual([true, false, false, false]);
  });
});

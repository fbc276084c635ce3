import { SecretBox } from './secret-box';

describe('SecretBox (webhook secrets at rest)', () => {
  const secret = 'a-test-secret-of-some-length';

  it('with a key: seals to a form that neither holds nor repeats the secret, and opens it again', () => {
    const box = new SecretBox('a key of the operator');
    const first = box.seal(secret);
    const second = box.seal(secret);
    expect(first).toMatch(/^enc:v1:[A-Za-z0-9+/=]+$/);
    expect(first).not.toContain(secret);
    expect(second).not.toBe(first);
    expect(box.open(first)).toBe(secret);
    expect(new SecretBox('a key of the operator').open(second)).toBe(secret);
  });

  it('without a key: keeps the secret as given; a secret stored before a key was set still opens', () => {
    expect(new SecretBox(undefined).seal(secret)).toBe(secret);
    expect(new SecretBox('a key of the operator').open(secret)).toBe(secret);
  });

  it('another key, no key, or a tampered form: refused, saying why', () => {
    const sealed = new SecretBox('a key of the operator').seal(secret);
    expect(() => new SecretBox('another key').open(sealed)).toThrow('encrypted under another key');
    expect(() => new SecretBox(undefined).open(sealed)).toThrow('LOOP_WEBHOOK_SECRET_KEY is not set');
    const bytes = Buffer.from(sealed.slice('enc:v1:'.length), 'base64');
    bytes[bytes.length - 1] ^= 1;
    expect(() => new SecretBox('a key of the operator').open(`enc:v1:${bytes.toString('base64')}`)).toThrow('cannot be decrypted');
  });
});

import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';

/** What a sealed secret starts with in the database (a plaintext one, stored before a key was set, does not). */
const SEALED = 'enc:v1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** scrypt's salt: fixed, as the key is a configured secret and not a user's password. */
const KEY_SALT = 'mlops-webhook-secrets';

/**
 * Webhook secrets at rest: with LOOP_WEBHOOK_SECRET_KEY, sealed with AES-256-GCM under a key
 * derived from it (scrypt), each with its own random IV; without it, kept as given. A secret
 * stored before the key was set is still read as it is.
 */
export class SecretBox {
  private readonly key: Buffer | undefined;

  constructor(passphrase: string | undefined) {
    this.key = passphrase === undefined ? undefined : scryptSync(passphrase, KEY_SALT, 32);
  }

  get encrypts(): boolean {
    return this.key !== undefined;
  }

  /** The form a secret is stored in. */
  seal(secret: string): string {
    if (!this.key) return secret;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const sealed = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    return SEALED + Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64');
  }

  /** The secret from its stored form; throws, saying why, when it cannot be opened with this key. */
  open(stored: string): string {
    if (!stored.startsWith(SEALED)) return stored;
    if (!this.key) throw new Error('the secret is encrypted and LOOP_WEBHOOK_SECRET_KEY is not set: set it to the key the webhook was created with');
    const bytes = Buffer.from(stored.slice(SEALED.length), 'base64');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, bytes.subarray(0, IV_BYTES));
      decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new Error('the secret cannot be decrypted with LOOP_WEBHOOK_SECRET_KEY: it was encrypted under another key (was the key changed?)');
    }
  }
}

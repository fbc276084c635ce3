import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { InvalidInputError, NotFoundError } from '@mlops/errors';

const SHA256 = /^[a-f0-9]{64}$/;

/** What the store holds: ONNX models, and the holdout rows (NPY) serving times a latency bound on. */
export type StoredExtension = 'onnx' | 'npy';

export const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/**
 * Model artifacts, content-addressed: `<root>/sha256/<first two hex>/<hash>.onnx` (a version's
 * holdout rows: `.npy`). The same bytes are stored once whatever model or version they belong
 * to; nothing leaves the root.
 */
export class ContentStore {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  /** The absolute path of an artifact by its hash (which must be a sha256 hex digest). */
  pathOf(hash: string, extension: StoredExtension = 'onnx'): string {
    if (!SHA256.test(hash)) throw new InvalidInputError(`"${hash}" is not a sha256 hex digest`);
    const path = resolve(this.root, 'sha256', hash.slice(0, 2), `${hash}.${extension}`);
    if (!path.startsWith(this.root + sep)) throw new InvalidInputError(`artifact "${hash}" escapes the artifact root`);
    return path;
  }

  /** Stores bytes (atomically: temp file + rename) and returns their hash and path. */
  async put(bytes: Uint8Array, extension: StoredExtension = 'onnx'): Promise<{ hash: string; path: string }> {
    const hash = sha256(bytes);
    const path = this.pathOf(hash, extension);
    if (await this.has(hash, extension)) return { hash, path };
    await mkdir(dirname(path), { recursive: true });
    const temp = join(dirname(path), `.upload-${randomUUID()}`);
    try {
      await writeFile(temp, bytes);
      await rename(temp, path);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    return { hash, path };
  }

  async has(hash: string, extension: StoredExtension = 'onnx'): Promise<boolean> {
    return (await stat(this.pathOf(hash, extension)).catch(() => undefined))?.isFile() ?? false;
  }

  async read(hash: string): Promise<Buffer> {
    try {
      return await readFile(this.pathOf(hash));
    } catch {
      throw new NotFoundError(`artifact sha256:${hash} is not in the store`);
    }
  }
}

/** A file path from an artifactUri: a plain path or a file:// URI. */
export function filePathOf(uri: string): string {
  if (uri.startsWith('file://')) return decodeURIComponent(new URL(uri).pathname);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri)) throw new InvalidInputError(`artifactUri ${uri}: only file paths and file:// URIs are supported`);
  return uri;
}

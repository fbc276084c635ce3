import { createReadStream, createWriteStream, type ReadStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomUUID } from 'node:crypto';
import { InvalidInputError, NotFoundError } from '@mlops/errors';

export interface FileInfo {
  path: string;
  is_dir: boolean;
  file_size?: number;
}

/** The longest file or directory name (bytes) common filesystems store. */
const MAX_SEGMENT_BYTES = 255;

/**
 * Validates a relative artifact path the way MLflow's `validate_path_is_safe` does: no
 * absolute paths, no `.`/`..` segments, no backslashes or NUL; returns it normalised.
 */
export function safeRelativePath(path: string): string {
  if (path.includes('\0') || path.includes('\\')) throw new InvalidInputError(`invalid artifact path "${path}"`);
  if (/^[a-zA-Z]:/.test(path) || path.startsWith('/')) throw new InvalidInputError(`invalid artifact path "${path}": it must be relative`);
  const segments = path.split('/').filter((s) => s !== '');
  if (segments.some((s) => s === '..' || s === '.')) throw new InvalidInputError(`invalid artifact path "${path}": it may not contain "." or ".." segments`);
  // Filesystems refuse longer names (ENAMETOOLONG): say so as a bad path, not a server error.
  const tooLong = segments.find((s) => Buffer.byteLength(s) > MAX_SEGMENT_BYTES);
  if (tooLong) throw new InvalidInputError(`invalid artifact path: the segment "${tooLong.slice(0, 40)}..." is ${Buffer.byteLength(tooLong)} bytes, the limit is ${MAX_SEGMENT_BYTES}`);
  return segments.join('/');
}

/** Proxied artifacts (`mlflow-artifacts:/<path>`) on the local filesystem, confined to one root. */
export class ArtifactStore {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  /** The absolute location of a relative path; never outside the root. */
  locate(path: string): string {
    const relative = safeRelativePath(path);
    const absolute = resolve(this.root, relative);
    if (absolute !== this.root && !absolute.startsWith(this.root + sep)) throw new InvalidInputError(`artifact path "${path}" escapes the artifact root`);
    return absolute;
  }

  async put(path: string, body: Readable): Promise<void> {
    const target = this.locate(path);
    if (target === this.root) throw new InvalidInputError('an artifact needs a file path');
    await mkdir(dirname(target), { recursive: true });
    const temp = join(dirname(target), `.upload-${randomUUID()}`);
    try {
      await pipeline(body, createWriteStream(temp));
      await rename(temp, target);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  async open(path: string): Promise<{ stream: ReadStream; size: number }> {
    const target = this.locate(path);
    const info = await stat(target).catch(() => undefined);
    if (!info?.isFile()) throw new NotFoundError(`artifact "${path}" does not exist`);
    return { stream: createReadStream(target), size: info.size };
  }

  /** The entries directly under `path` (names only), directories first-class; empty when absent. */
  async list(path: string): Promise<FileInfo[]> {
    const target = this.locate(path);
    const entries = await readdir(target, { withFileTypes: true }).catch(() => []);
    const files: FileInfo[] = [];
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (entry.name.startsWith('.upload-')) continue;
      if (entry.isDirectory()) files.push({ path: entry.name, is_dir: true });
      else if (entry.isFile()) files.push({ path: entry.name, is_dir: false, file_size: (await stat(join(target, entry.name))).size });
    }
    return files;
  }
}

const PROXY_SCHEME = /^mlflow-artifacts:(\/\/[^/]*)?\/?/;

/** `mlflow-artifacts:/1/abc/artifacts` -> `1/abc/artifacts`; undefined for other schemes. */
export function proxiedPath(uri: string): string | undefined {
  return PROXY_SCHEME.test(uri) ? uri.replace(PROXY_SCHEME, '') : undefined;
}

import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * An executable the tests run: `fromEnv` (the variable .ci/run exports) if set, else `name` on
 * PATH, else the first of `fallbacks` that exists (Debian's paths, which a non-root PATH often
 * lacks); undefined when none is there.
 */
export function findBinary(name: string, fromEnv: string | undefined, fallbacks: string[]): string | undefined {
  const candidates = [fromEnv, ...(process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, name)), ...fallbacks];
  return candidates.find((path): path is string => !!path && existsSync(path));
}

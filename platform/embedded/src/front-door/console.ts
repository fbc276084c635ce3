import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, resolve } from 'node:path';

/**
 * The web console's built files (scripts/build-console.mjs -> dist/console), found from this
 * file whether it runs from dist/ (dist/platform/embedded/src/front-door) or from source
 * (platform/embedded/src/front-door, in tests).
 */
export function consoleDir(): string | undefined {
  const up = resolve(__dirname, '../../../..');
  return [join(up, 'console'), join(up, 'dist/console')].find((dir) => existsSync(join(dir, 'index.html')));
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
};

/** A browser's navigation asks for text/html first; curl sends `*\/*` and API clients JSON. */
export const wantsHtml = (req: IncomingMessage) => /\btext\/html\b/.test(req.headers.accept ?? '');

/** One file of the console by its name (no folders: nothing outside the console's directory is reachable). */
export function serveConsole(res: ServerResponse, file: string): void {
  const dir = consoleDir();
  const type = TYPES[extname(file)];
  res.setHeader('vary', 'Accept');
  if (!dir) {
    res.statusCode = 503;
    res.setHeader('content-type', 'text/plain; charset=utf-8');
    res.end('The web console is not built: run `npm run build` (scripts/build-console.mjs). `curl /` lists the HTTP APIs.\n');
    return;
  }
  if (!/^[\w.-]+$/.test(file) || !type || !existsSync(join(dir, file))) {
    res.statusCode = 404;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ error_code: 'ENDPOINT_NOT_FOUND', message: `no console file ${file}` }));
    return;
  }
  res.statusCode = 200;
  res.setHeader('content-type', type);
  res.setHeader('cache-control', 'no-cache');
  res.end(readFileSync(join(dir, file)));
}

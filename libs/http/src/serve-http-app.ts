import type { INestApplication } from '@nestjs/common';

export interface ServeOptions {
  port: number;
  host: string;
  /**
   * Mount instead of listen: the app is initialized without a server of its own, for a front
   * door that serves its Express instance (`app.getHttpAdapter().getInstance()`) at this URL.
   */
  mountedAt?: string;
}

/**
 * Listens on `port`/`host` and returns the bound URL (`http://127.0.0.1:<port>`), or, with
 * `mountedAt`, initializes the app (routes, filters, body parsers, lifecycle hooks) without
 * listening and returns `mountedAt`.
 */
export async function serveHttpApp(app: INestApplication, options: ServeOptions): Promise<string> {
  if (options.mountedAt) {
    await app.init();
    return options.mountedAt.replace(/\/$/, '');
  }
  await app.listen(options.port, options.host);
  return (await app.getUrl()).replace('[::1]', '127.0.0.1');
}

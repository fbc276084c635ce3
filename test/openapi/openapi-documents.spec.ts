import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { HTTP_SERVICES, startHttpService } from './http-services';

/**
 * Each service's OpenAPI document is generated from its controllers and served at
 * GET /openapi.json; a copy is kept in `services/<name>/openapi.json` for readers. This
 * fails when a copy no longer matches the code; `npm run openapi` rewrites them.
 */
const update = process.env.UPDATE_OPENAPI === '1';

describe.each(Object.keys(HTTP_SERVICES))('services/%s/openapi.json', (name) => {
  it('is the document the service serves at GET /openapi.json', async () => {
    const service = await startHttpService(name);
    try {
      const answer = await fetch(`${service.url}/openapi.json`);
      expect(answer.status).toBe(200);
      const served = (await answer.json()) as { openapi: string; paths: Record<string, unknown> };
      expect(served.openapi).toMatch(/^3\./);
      expect(Object.keys(served.paths)).toContain('/health/ready');
      const file = resolve(__dirname, '../../services', name, 'openapi.json');
      const text = `${JSON.stringify(served, null, 2)}\n`;
      if (update) writeFileSync(file, text);
      expect(existsSync(file), `${file} is missing: run \`npm run openapi\``).toBe(true);
      expect(JSON.parse(readFileSync(file, 'utf8')), `${file} is out of date: run \`npm run openapi\``).toEqual(served);
    } finally {
      await service.close();
    }
  });
});

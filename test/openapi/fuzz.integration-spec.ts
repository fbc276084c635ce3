import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { interopPython } from '../support/python';
import { HTTP_SERVICES, startHttpService } from './http-services';

/**
 * Schemathesis (from PyPI) fuzzes every service's HTTP API from its own /openapi.json on
 * loopback, bounded in examples and time: no answer may be a 5xx, every status and content
 * type must be documented, and every 4xx must have the `{error_code, message}` body.
 */
const CHECKS = ['not_a_server_error', 'status_code_conformance', 'content_type_conformance', 'response_schema_conformance'];

describe.each(Object.keys(HTTP_SERVICES))('the %s HTTP API under a fuzzer (schemathesis)', (name) => {
  it('answers every generated request with a documented status and body, never a 5xx', async () => {
    const service = await startHttpService(name);
    try {
      const schemathesis = join(dirname(interopPython()), 'schemathesis');
      // Asynchronously: the service answers from this process's event loop.
      const run = await promisify(execFile)(
        schemathesis,
        [
          'run',
          `${service.url}/openapi.json`,
          `--checks=${CHECKS.join(',')}`,
          '--phases=examples,coverage,fuzzing',
          '--max-examples=25',
          '--seed=20261205',
          '--workers=1',
          '--max-time=20',
          '--request-timeout=10',
          '--no-color',
          '--suppress-health-check=all',
        ],
        // In a temporary directory: schemathesis keeps its example database in the working directory.
        { encoding: 'utf8', timeout: 150_000, maxBuffer: 64 * 1024 * 1024, cwd: tmpdir() },
      ).then(
        ({ stdout, stderr }) => ({ code: 0, output: `${stdout}\n${stderr}` }),
        (error: { code?: number; stdout?: string; stderr?: string; message: string }) => ({
          code: error.code ?? -1,
          output: `${error.stdout ?? ''}\n${error.stderr ?? error.message}`,
        }),
      );
      expect(run.output, 'schemathesis tested no operation').toMatch(/\d+ passed/);
      expect(run.code, run.output).toBe(0);
    } finally {
      await service.close();
    }
  }, 180_000);
});

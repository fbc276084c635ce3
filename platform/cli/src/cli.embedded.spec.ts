import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { readmeBlocks } from '../../../test/support/readme';
import { runEmbedded, type EmbeddedSummary } from '../../embedded/src/embedded';
import { run } from './main';

/**
 * The CLI against the real embedded platform (one process, the front door on a free port),
 * once its demo loop has run: the routes that exist on every branch today (readiness, ingestion,
 * the loop record, v2 REST inference, promotion and rollback).
 */
interface Out {
  code: number;
  stdout: string;
  stderr: string;
}

describe('mlops against the embedded platform', () => {
  let dataDir: string;
  let summary: EmbeddedSummary;
  const outs: Record<string, Out> = {};
  let failure: unknown;
  let readmeBlock: { code: number; stdout: string; stderr: string } | undefined;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'mlops-cli-embedded-'));
    const files = mkdtempSync(join(tmpdir(), 'mlops-cli-files-'));
    const lines: string[] = [];
    summary = await runEmbedded({
      dataDir,
      port: 0,
      grpcPort: 0,
      records: 600,
      shiftRecords: 600,
      windowSize: 150,
      promoteAfter: 30,
      epochs: 80,
      stepTimeoutMs: 20_000,
      serve: false,
      print: (line) => lines.push(line),
      whileServing: async ({ url }) => {
        const mlops = async (name: string, args: string[]) => {
          let stdout = '';
          let stderr = '';
          const code = await run(args, {
            stdout: { write: (s: string) => (stdout += s) },
            stderr: { write: (s: string) => (stderr += s) },
            isTTY: false,
            env: { MLOPS_URL: url },
            cwd: files,
          });
          outs[name] = { code, stdout, stderr };
        };
        try {
          await mlops('status', ['status']);
          writeFileSync(
            join(files, 'stream.csv'),
            [
              'id,entity,ts,f0,f1,f2,f3,f4,f5,f6,f7,label',
              'cli-1,e1,2026-03-01T00:00:00Z,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,1',
              'cli-2,e2,2026-03-01T00:00:01Z,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,7',
              'cli-3,e3,2026-03-01T00:00:02Z,1,1,1,1,1,1,1,1,0',
            ].join('\n'),
          );
          await mlops('ingest', ['ingest', 'stream.csv', '--source', 'stream', '--batch-size', '2']);
          await mlops('loops', ['loops', '--model', 'stream_model']);
          const row = Object.fromEntries(['f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7'].map((f, i) => [f, i / 10]));
          await mlops('predict', ['predict', 'stream_model', '--json', JSON.stringify([row]), '--output', 'json']);
          await mlops('predictUnknown', ['predict', 'no_such_model', '--json', '[[1, 2]]']);
          await mlops('rollback', ['rollback', 'stream_model', '--reason', 'checking the CLI']);
          await mlops('promote', ['promote', 'stream_model', '2']);
          // README "CLI": its block, as written, from the repository root.
          const [block] = readmeBlocks('CLI');
          readmeBlock = await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', block!], { cwd: resolve(__dirname, '../../..'), env: { ...process.env, MLOPS_URL: url, API_TOKEN: '' }, timeout: 120_000 })
            .then(({ stdout, stderr }) => ({ code: 0, stdout, stderr }))
            .catch((error: { code?: number; stdout?: string; stderr?: string }) => ({ code: error.code ?? 1, stdout: error.stdout ?? '', stderr: error.stderr ?? '' }));
        } catch (error) {
          failure = error;
        } finally {
          rmSync(files, { recursive: true, force: true });
        }
      },
    });
    if (!summary.completed) throw new Error(`the embedded demo did not complete:\n${lines.join('\n')}`);
  }, 240_000);
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('status: all eight services ready through the front door', () => {
    expect(failure).toBeUndefined();
    expect(outs.status).toMatchObject({ code: 0, stderr: '' });
    expect(outs.status!.stdout).toMatch(/^ingestion\s+ready$/m);
    expect(outs.status!.stdout).toMatch(/all 8 services ready at http:\/\/127\.0\.0\.1:\d+\n$/);
  });

  it("ingest: CSV cells typed by the source's contract, rejections with their line and reason", () => {
    expect(outs.ingest!.code).toBe(0);
    expect(outs.ingest!.stdout).toMatch(/^stream: 3 records from stream\.csv, accepted 2, rejected 1 \(contract v1\)\n {2}line 3 \(cli-2\): label: .+$/m);
  });

  it('loops: the demo loop of stream_model, closed and promoted', () => {
    expect(outs.loops!.code).toBe(0);
    expect(outs.loops!.stdout).toMatch(/^LOOP\s+MODEL\s+STATUS\s+OUTCOME/);
    expect(outs.loops!.stdout).toMatch(/stream_model\s+closed\s+promoted\s+v1\s+v2/);
  });

  it("predict: object rows ordered by the champion's logged features, answered by v2 over v2 REST", () => {
    expect(outs.predict!.stderr).toBe('');
    const doc = JSON.parse(outs.predict!.stdout) as { predictions: { model_version: string; prediction_id: string; outputs: Record<string, unknown> }[] };
    expect(doc.predictions).toHaveLength(1);
    expect(doc.predictions[0]!.model_version).toBe('2');
    expect(doc.predictions[0]!.prediction_id).toMatch(/^[0-9a-f]{8}-0:0$/);
    expect(Object.keys(doc.predictions[0]!.outputs)).toEqual(expect.arrayContaining(['probabilities', 'label']));
    expect(outs.predictUnknown!.code).toBe(1);
    expect(outs.predictUnknown!.stderr).toMatch(/^error: GET http:\/\/127\.0\.0\.1:\d+\/serving\/v2\/models\/no_such_model: 404 /);
  });

  it('README "CLI": applies the churn project and ingests examples/churn/march.parquet, two rows rejected by the contract', () => {
    expect(readmeBlock?.code, JSON.stringify(readmeBlock)).toBe(0);
    const out = readmeBlock!.stdout;
    expect(out).toContain('contract customers: created v1\n');
    expect(out).toMatch(
      /^customers: 20 records from examples\/churn\/march\.parquet, accepted 18, rejected 2 \(contract v1\)\n {2}row 7 \(C03007\): monthly_charges: Invalid input: expected number, received undefined\n {2}row 13 \(C03013\): contract_months: Too big: expected number to be <=36\n/m,
    );
  });

  it('rollback then promote move the champion back and forth', () => {
    expect(outs.rollback).toEqual({ code: 0, stdout: 'stream_model: rolled back v2; champion is v1\n', stderr: '' });
    expect(outs.promote).toEqual({ code: 0, stdout: 'stream_model v2 is champion (was v1)\n', stderr: '' });
  });
});

import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { InProcessTransport } from '@mlops/bus';
import { interopPython } from '../../../test/support/python';
import { readmeBlocks } from '../../../test/support/readme';
import { freePort } from '../../../test/support/service-process';
import { makeTestModels } from '../test/models';
import { startServing, type ServingApp } from './serving.app';
import { loadServingConfig } from './serving.config';

const SERVING_README = resolve(__dirname, '../README.md');
const SECTION = '## KServe v2 REST (`SERVING_HTTP_PORT`)';

/** The ```bash blocks of services/serving/README.md's v2 REST section, in order: what a reader copies. */
function servingExamples(): string[] {
  const markdown = readFileSync(SERVING_README, 'utf8');
  const start = markdown.indexOf(`\n${SECTION}\n`);
  if (start < 0) throw new Error(`${SERVING_README} has no section '${SECTION}'`);
  const next = markdown.indexOf('\n## ', start + SECTION.length + 1);
  const section = markdown.slice(start, next < 0 ? undefined : next);
  return [...section.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => m[1]);
}

describe('README curl examples of serving (services/serving/README.md, the root README) run against a real server', () => {
  let serving: ServingApp;

  beforeAll(async () => {
    const models = makeTestModels(interopPython());
    serving = await startServing(
      loadServingConfig({ SERVING_GRPC_PORT: String(await freePort()), SERVING_HTTP_PORT: '0', SERVING_MODELS: `house=${models.linreg}` }),
      { inProcess: new InProcessTransport(), logger: false },
    );
  }, 60_000);
  afterAll(() => serving?.close());

  const run = async (script: string) => {
    const { stdout } = await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', script], {
      env: { ...process.env, SERVING: `http://127.0.0.1:${serving.httpPort}` },
      encoding: 'utf8',
    });
    return stdout;
  };

  it('services/serving/README.md: three bash examples, each runs, with the answers the README shows', async () => {
    const examples = servingExamples();
    expect(examples).toHaveLength(3);

    const first = await run(examples[0]);
    expect(first).toContain('{"ready":true}');
    expect(first).toContain('"inputs":[{"name":"x","datatype":"FP32","shape":[-1,4]}]');
    expect(first).toMatch(/\{"model_name":"house","model_version":"1","id":"r-1","parameters":\{"route":"stable","prediction_ids":\["r-1:0","r-1:1"\]\},"outputs":\[\{"name":"variable","datatype":"FP32","shape":\[2,1\],"data":\[[-\d.e]+,[-\d.e]+\]\}\]\}/);

    const binary = await run(examples[1]);
    const headerLength = Number(/inference-header-content-length: (\d+)/i.exec(binary)?.[1]);
    const body = readFileSync('/tmp/house-response.bin');
    expect(JSON.parse(body.subarray(0, headerLength).toString())).toMatchObject({ outputs: [{ name: 'variable', shape: [1, 1], parameters: { binary_data_size: 4 } }] });
    expect(body.length).toBe(headerLength + 4);

    const rest = await run(examples[2]);
    expect(rest).toContain(`{"error":"input tensor 'x': data has 3 values, expected 4 for shape [1,4]"}`);
    expect(rest).toMatch(/"model_stats":\[\{"name":"house","version":"1","last_inference":\d+,"inference_count":3,"execution_count":2/);
    expect(rest).toContain('"max_batch_size":64');
    expect(rest).toContain('[{"name":"house","version":"1","state":"READY","reason":""}]');
  });

  it('the root README: the curl example of the serving section answers (its SERVING= line pointed at the test server)', async () => {
    const [example] = readmeBlocks('Serving service (KServe v2 gRPC and REST)');
    const script = example.replace(/^SERVING=\S+/m, 'SERVING=$SERVING');
    expect(script).not.toBe(example);
    expect(await run(script)).toMatch(/^\{"model_name":"house","model_version":"1","parameters":\{"route":"stable","prediction_ids":\["[0-9a-f-]{36}:0"\]\},"outputs":\[\{"name":"variable","datatype":"FP32","shape":\[1,1\],"data":\[[-\d.e]+\]\}\]\}$/);
  });
});

import type { EventType } from '@mlops/contracts';
import { frontDoorIndex } from '../../platform/embedded/src/front-door/routes';
import { LOOP_STAGES, LoopPlatform } from '../support/loop-platform';
import { mlflowThroughFrontDoor, mlflowTutorial } from '../support/mlflow-front-door';

/**
 * The closed loop as docker-compose runs it, on this machine (test/support/loop-platform.ts):
 * every service its own process on real Kafka, Postgres and Redis, driven only from outside.
 * After the stream shifts, the services close the loop on their own.
 */
describe('closed loop across processes: drift -> retrain -> canary -> promotion (real Kafka, Postgres, Redis)', () => {
  const platform = new LoopPlatform();
  let passed = false;

  beforeAll(() => platform.start(), 150_000);
  afterAll(() => platform.stop('closed loop across processes', passed));

  it('closes the loop on its own: the retrained version is promoted and serves, no gRPC request fails', async () => {
    const { model, url, report, events } = platform;
    const drifted = await platform.driveToDrift();
    const { loopId, firstVersion, traffic, live } = drifted;
    // Closed `promoted`, on Kafka, and serving applied it on its own: the new version takes all unversioned traffic.
    const { loop, newVersion } = await platform.promotedAndServing(drifted);

    // The listing by model shows this loop too.
    expect((await platform.loops()).map((l) => [l.correlationId, l.outcome])).toContainEqual([loopId, 'promoted']);

    // Every stage was on Kafka under the loop's one correlation id, in causal order.
    const promoted = events.find('model.promoted', (e) => e.correlationId === loopId);
    expect(promoted?.data).toMatchObject({ model, version: newVersion, alias: 'champion' });
    const ofLoop = events.loop(loopId);
    expect(LOOP_STAGES.filter((type) => !ofLoop.some((e) => e.type === type))).toEqual([]);
    // Causal order by the producers' clocks (one machine). model.registered and
    // deployment.requested leave the registry together and may carry the same millisecond.
    const firstTime = (type: EventType) => Date.parse(ofLoop.find((e) => e.type === type)!.time);
    const times = LOOP_STAGES.map(firstTime);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(ofLoop.filter((e) => e.type === 'training.failed' || e.type === 'model.rolled_back')).toEqual([]);
    const verdict = ofLoop.find((e) => e.type === 'canary.evaluated');
    expect(verdict).toMatchObject({ data: { model, version: newVersion, verdict: 'promote' } });
    report.push(`          canary verdict: ${verdict?.type === 'canary.evaluated' ? verdict.data.reason : ''}`);

    expect(await traffic.infer([live.features()])).toBe(String(newVersion));
    // Through the front door (real nginx, deploy/nginx/front-door.conf.template): the registry's MLflow path.
    const champion = (await (await fetch(`${url.frontDoor}/api/2.0/mlflow/registered-models/alias?name=${model}&alias=champion`)).json()) as {
      model_version: { version: string };
    };
    expect(champion.model_version.version).toBe(String(newVersion));

    // The official mlflow client with MLFLOW_TRACKING_URI alone, through nginx: tracking and the registry.
    const client = await mlflowThroughFrontDoor(url.frontDoor, { experiment: `e2e-${platform.run}`, newModel: `front_${platform.run}`, existingModel: model });
    expect(client).toMatchObject({
      status: 'FINISHED',
      params: { lr: '0.1' },
      history: [[0, 1], [1, 0.5], [2, 1 / 3]],
      artifacts: ['notes.txt'],
      fetched: { name: `front_${platform.run}`, tags: { origin: 'front-door' } },
      existing: { name: model, aliases: { champion: String(newVersion) } },
    });
    expect(client.viewRunUrl).toBe(`${url.frontDoor}/#/experiments/${client.experiment_id}/runs/${client.run_id}`);
    // The MLflow tutorial flow through nginx: log_model ... load_model("models:/<name>/Production"),
    // then an ONNX flavor model the platform serves over gRPC.
    const tutorial = await mlflowTutorial(url.frontDoor, {
      experiment: `tutorial-${platform.run}`,
      model: `tutorial_sklearn_${platform.run}`,
      onnxModel: `tutorial_onnx_${platform.run}`,
      servingGrpc: platform.grpcAddress,
    });
    expect(tutorial).toMatchObject({ version: '1', stage: 'Production', onnx_version: '1', onnx_stage: 'Production' });
    expect(tutorial.sklearn_predictions).toEqual(tutorial.expected_predictions);
    expect(tutorial.grpc_labels).toEqual(tutorial.onnx_labels);
    // Each service's own API under its prefix, through the same port.
    const through = async (path: string) => {
      const response = await fetch(`${url.frontDoor}${path}`);
      expect(response.status, path).toBe(200);
      return response.json() as Promise<Record<string, unknown>>;
    };
    expect(await through('/')).toEqual(frontDoorIndex());
    expect(await through(`/loop/api/loops/${loopId}`)).toMatchObject({ loop: { correlationId: loopId, outcome: 'promoted' } });
    expect(await through(`/registry/models/${model}/versions/${newVersion}/gate`)).toMatchObject({ passed: true });
    const probes = ['/ingestion/health/ready', '/feature-store/health/ready', '/tracking/health/ready', '/trainer/health/ready', '/monitoring/health/ready', '/loop/health/ready', '/serving/health/live'];
    for (const path of probes) expect(await through(path), path).toMatchObject({ status: 'ok' });
    report.push(`          front door: mlflow client (run ${client.run_id.slice(0, 8)}, registry read of ${model}) and ${probes.length + 3} service paths through nginx at ${url.frontDoor}`);

    const { requests, failed, rows, labels, byVersion, lastError } = traffic.stats;
    report.push(
      `          gRPC: ${requests} requests (${rows} rows), ${failed} failed${lastError ? ` (last: ${lastError})` : ''}; by version ${JSON.stringify(byVersion)}; ${labels} labels produced`,
    );
    const monitor = (await (await fetch(`${url.monitoring}/status`)).json()) as { labels: { unmatched: number } };
    const performance = (await (await fetch(`${url.monitoring}/models/${model}/versions/${firstVersion}/performance`)).json()) as { labels?: number };
    report.push(`          monitoring: ${performance.labels ?? '?'} labels joined to v${firstVersion} predictions so far, ${monitor.labels.unmatched} matched no waiting prediction`);
    report.push(`          loop ${loopId.slice(0, 8)}: v${firstVersion} -> v${newVersion} in ${((loop.durationMs ?? 0) / 1000).toFixed(1)}s from drift.detected to model.promoted`);
    expect(failed).toBe(0);
    passed = true;
  }, 230_000);
});

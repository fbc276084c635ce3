import { restartServer, type InfraServer } from '../support/infra-control';
import { LoopPlatform } from '../support/loop-platform';

/**
 * The closed loop across processes (test/support/loop-platform.ts) while the infrastructure
 * restarts under it: after drift is detected, Postgres is stopped (fast shutdown, every session
 * terminated) once the registry has the trained model in hand, then the Kafka broker once
 * Postgres is back. The loop must still reach `promoted` under its one correlation id, with one
 * retrain and one registered version, and serving must answer every gRPC request throughout.
 * It restarts the shared local servers: run it alone.
 */
describe('closed loop under infrastructure restarts: Postgres, then the Kafka broker, mid-loop', () => {
  const platform = new LoopPlatform({ idempotentProducer: false });
  let passed = false;

  beforeAll(() => platform.start(), 150_000);
  afterAll(() => platform.stop('closed loop under infrastructure restarts', passed));

  it('still promotes the retrained version once, under one correlation id, with no failed gRPC request', async () => {
    const drifted = await platform.driveToDrift();
    const restart = (server: InfraServer) => async () => {
      const { downMs, restartMs } = await restartServer(server, 2_000);
      return `${server} stopped, down ${downMs} ms, back in ${restartMs} ms`;
    };
    // One after the other: each outage on its own, the second wherever the loop has got to. Both
    // accepted whether or not the registry still held the gate then; expectPromotedOnce reports which.
    await platform.injectAt(drifted.loopId, 'training.completed', 'model.registered', restart('postgres'));
    await platform.injectAt(drifted.loopId, 'training.completed', 'model.registered', restart('kafka'));
    platform.mark('Postgres and the Kafka broker restarted mid-loop');
    await platform.expectPromotedOnce(drifted);
    passed = true;
  }, 300_000);
});

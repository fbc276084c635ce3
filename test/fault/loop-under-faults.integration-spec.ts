import type { EventType } from '@mlops/contracts';
import { LoopPlatform, type LoopServiceName } from '../support/loop-platform';

/**
 * Each crash is injected when the observer sees the stage that hands the service its work;
 * `done` is the stage that ends that work.
 */
const CRASHES: readonly { service: LoopServiceName; when: EventType; done: EventType }[] = [
  // Mid-training: the trainer has announced the run and is fitting the dataset (several seconds).
  { service: 'trainer', when: 'training.started', done: 'training.completed' },
  // Mid-gate: the registry has the trained model and is evaluating and registering it.
  { service: 'registry', when: 'training.completed', done: 'model.registered' },
  // Mid-canary: monitoring is counting the candidate's predictions and labels.
  { service: 'monitoring', when: 'deployment.completed', done: 'canary.evaluated' },
];

/**
 * The closed loop across processes (test/support/loop-platform.ts), with crashes while it runs:
 * after drift is detected, the trainer, the registry and monitoring are each killed with
 * SIGKILL at the moment they have the loop's work in hand, and restarted with the same
 * environment. The loop must still reach `promoted` under its one correlation id, with one
 * retrain and one registered version, and serving must answer every gRPC request throughout.
 */
describe('closed loop under crashes: kill -9 of trainer, registry and monitoring mid-loop', () => {
  const platform = new LoopPlatform();
  let passed = false;

  beforeAll(() => platform.start(), 150_000);
  afterAll(() => platform.stop('closed loop under crashes', passed));

  it('still promotes the retrained version once, under one correlation id, with no failed gRPC request', async () => {
    const drifted = await platform.driveToDrift();
    await Promise.all(
      CRASHES.map(({ service, when, done }) =>
        platform.injectAt(drifted.loopId, when, done, async () => {
          const downMs = await platform.killAndRestart(service);
          return `kill -9 ${service}; restarted with the same env, ready again in ${(downMs / 1000).toFixed(1)}s`;
        }),
      ),
    );
    platform.mark(`${CRASHES.length} services killed and restarted mid-loop`);
    // Accepts a crash that came after its stage had passed (the observer sees `when` late, and the
    // registry's gate can take less than that): expectPromotedOnce reports, for each crash,
    // whether the service still held the work (heldAtFault), so a run that tested less says so.
    await platform.expectPromotedOnce(drifted);
    passed = true;
  }, 280_000);
});

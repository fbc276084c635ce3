import { v5 as uuidv5 } from 'uuid';
import type { EventBus, HandlerContext, Subscription } from '@mlops/bus';
import { causedBy, type AnyEvent, type EventEnvelope } from '@mlops/contracts';
import { ApiError } from '@mlops/http';
import { CHALLENGER, CHAMPION, type RegistryService } from './registry.service';

const EVENT_ID_NAMESPACE = 'c4e2a9b1-7d3f-4a6e-8b5c-2f1d0e9a8b7c';

export interface CanaryLogger {
  log(message: string): void;
  warn(message: string): void;
}

/**
 * Acts on the monitor's canary verdicts and on first deployments:
 *  - canary.evaluated `promote` -> the version becomes champion (model.promoted, as promote() does);
 *  - canary.evaluated `rollback` -> model.rolled_back with the monitor's reason; the champion
 *    stays and the version loses `challenger` (serving drops the canary on that event);
 *  - deployment.completed (serving) of a model with no champion yet -> that version becomes
 *    champion: the first model has nothing to be compared with.
 * Idempotent: promotion is a no-op once the version is champion, and a redelivered rollback
 * verdict republishes the same model.rolled_back (same event id), which consumers apply once.
 */
export class CanaryConsumer {
  private subscription?: Subscription;

  constructor(
    private readonly service: RegistryService,
    private readonly bus: EventBus,
    private readonly group: string,
    private readonly log: CanaryLogger,
  ) {}

  async start(): Promise<void> {
    this.subscription = await this.bus.subscribeEvents({
      group: this.group,
      types: ['canary.evaluated', 'deployment.completed'],
      handle: async (event, ctx) => {
        const e = event as AnyEvent;
        if (e.type === 'canary.evaluated') await this.onVerdict(e, ctx);
        else if (e.type === 'deployment.completed') await this.onDeployed(e);
      },
    });
  }

  async stop(): Promise<void> {
    await this.subscription?.stop();
  }

  private async champion(model: string): Promise<number | undefined> {
    try {
      return Number((await this.service.getByAlias(model, CHAMPION)).version);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return undefined;
      throw error;
    }
  }

  private async onDeployed(event: EventEnvelope<'deployment.completed'>): Promise<void> {
    const { model, version, status } = event.data;
    if (status !== 'serving') return;
    if ((await this.champion(model)) !== undefined) return;
    await this.service.promote(model, version, 'first model: no champion to compare with');
    this.log.log(`model '${model}' version ${version} is champion: the first deployed version`);
  }

  private async onVerdict(event: EventEnvelope<'canary.evaluated'>, ctx: HandlerContext): Promise<void> {
    const { model, version, verdict, reason } = event.data;
    const champion = await this.champion(model);
    if (champion !== undefined && champion > version) {
      this.log.warn(`canary verdict '${verdict}' for '${model}' version ${version} ignored: version ${champion} is already champion`);
      return;
    }
    if (verdict === 'promote') {
      await this.service.promote(model, version, `canary promoted: ${reason}`);
      return;
    }
    if (champion === version) {
      // The verdict came after the version became champion: restore the one before it.
      await this.service.rollback(model, `canary rolled back: ${reason}`);
      return;
    }
    await this.dropChallenger(model, version);
    ctx.publish({
      ...causedBy(event, 'model.rolled_back', {
        source: 'registry',
        subject: model,
        data: { model, version, restoredVersion: champion, reason },
      }),
      id: uuidv5(`${event.id}/model.rolled_back`, EVENT_ID_NAMESPACE),
    } as AnyEvent);
    this.log.log(`model '${model}' canary version ${version} rolled back (${reason}); champion stays ${champion ?? 'unset'}`);
  }

  private async dropChallenger(model: string, version: number): Promise<void> {
    try {
      const challenger = await this.service.getByAlias(model, CHALLENGER);
      if (Number(challenger.version) === version) await this.service.deleteAlias(model, CHALLENGER);
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 404)) throw error;
    }
  }
}

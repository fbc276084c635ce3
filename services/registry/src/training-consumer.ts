import type { EventBus, Subscription } from '@mlops/bus';
import type { RegistryService } from './registry.service';

/** Consumes `training.completed`: register, gate, and publish the follow-ups with the ack. */
export class TrainingConsumer {
  private subscription?: Subscription;

  constructor(
    private readonly service: RegistryService,
    private readonly bus: EventBus,
    private readonly group: string,
  ) {}

  async start(): Promise<void> {
    this.subscription = await this.bus.subscribeEvents({
      group: this.group,
      types: ['training.completed'],
      handle: async (event, ctx) => {
        for (const followUp of await this.service.onTrainingCompleted(event)) ctx.publish(followUp);
      },
    });
  }

  async stop(): Promise<void> {
    await this.subscription?.stop();
  }
}

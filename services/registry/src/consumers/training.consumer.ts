import type { EventOf } from '@mlops/contracts';
import { BusConsumer, OnEvent } from '@mlops/runtime';
import { TrainingRegistration } from '../training/training-registration';

/**
 * training.completed in the service's consumer group (REGISTRY_GROUP): register, gate, and
 * return the follow-ups, published with the ack (in the Kafka transaction with the offset).
 */
@BusConsumer()
export class TrainingConsumer {
  constructor(private readonly registration: TrainingRegistration) {}

  @OnEvent('training.completed')
  onTrainingCompleted(event: EventOf<'training.completed'>) {
    return this.registration.onTrainingCompleted(event);
  }
}

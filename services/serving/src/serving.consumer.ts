import type { EventOf } from '@mlops/contracts';
import { BusConsumer, OnEvent } from '@mlops/runtime';
import { DeploymentService } from './deployment.service';

/**
 * Deployment events, in the service's consumer group (a worker's own group, see
 * deploymentGroup): every process applies each one to its own copy of the models.
 */
@BusConsumer()
export class ServingConsumer {
  constructor(private readonly deployments: DeploymentService) {}

  /** Returns the deployment.completed this process reports (published with the ack). */
  @OnEvent('deployment.requested')
  deploy(event: EventOf<'deployment.requested'>) {
    return this.deployments.deploy(event);
  }

  @OnEvent('model.promoted')
  promoted(event: EventOf<'model.promoted'>) {
    this.deployments.promote(event.data);
  }

  @OnEvent('model.rolled_back')
  rolledBack(event: EventOf<'model.rolled_back'>) {
    this.deployments.rollBack(event.data);
  }
}

import type { EventOf } from '@mlops/contracts';
import { BusConsumer, OnEvent } from '@mlops/runtime';
import { CanaryWatch } from '../canary/canary-watch';
import { ReferenceResolver } from '../references/reference-resolver';

/**
 * Lineage and deployment events, in `<group>.lifecycle` (one subscription, so they keep their
 * order): lineage facts for references; deployments, champions and canaries.
 */
@BusConsumer()
export class LifecycleConsumer {
  constructor(
    private readonly references: ReferenceResolver,
    private readonly canaries: CanaryWatch,
  ) {}

  @OnEvent(['dataset.materialized', 'training.completed', 'model.registered'], { group: 'lifecycle' })
  onLineage(event: EventOf<'dataset.materialized' | 'training.completed' | 'model.registered'>) {
    return this.references.onLineage(event);
  }

  @OnEvent('deployment.completed', { group: 'lifecycle' })
  onDeployment(event: EventOf<'deployment.completed'>) {
    return this.canaries.onDeployment(event);
  }

  @OnEvent(['model.promoted', 'model.rolled_back'], { group: 'lifecycle' })
  onChampionChange(event: EventOf<'model.promoted' | 'model.rolled_back'>) {
    return this.canaries.onChampionChange(event);
  }
}

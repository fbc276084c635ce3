import type { EventOf } from '@mlops/contracts';
import { BusConsumer, OnEvent } from '@mlops/runtime';
import { CanaryVerdicts } from '../canary/canary-verdicts';
import { ServingReports } from '../deployments/serving-reports';
import { QualityGate } from '../gate/quality-gate';

/** Both handlers read in `<REGISTRY_GROUP>.canary`: one subscription, apart from training.completed. */
const CANARY_GROUP = 'canary';

/** The monitor's canary verdicts and serving's deployments, for the champion alias. */
@BusConsumer()
export class CanaryConsumer {
  constructor(
    private readonly verdicts: CanaryVerdicts,
    private readonly reports: ServingReports,
    private readonly gate: QualityGate,
  ) {}

  /** Promotes or rolls back the canary; its model.promoted, or a dropped canary's model.rolled_back, is published with the ack. */
  @OnEvent('canary.evaluated', { group: CANARY_GROUP })
  onVerdict(event: EventOf<'canary.evaluated'>) {
    return this.verdicts.onVerdict(event);
  }

  /**
   * Records what serving loaded (for promotion by hand) and the checks it made during warm-up
   * (into the version's gate decision); the first version serving a model with no champion
   * becomes champion (model.promoted with the ack).
   */
  @OnEvent('deployment.completed', { group: CANARY_GROUP })
  async onDeployed(event: EventOf<'deployment.completed'>) {
    await this.reports.onDeployment(event);
    for (const check of event.data.checks ?? []) await this.gate.recordServingCheck(event.data.model, event.data.version, check);
    return this.verdicts.onDeployed(event);
  }
}

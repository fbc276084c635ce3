import type { EventOf } from '@mlops/contracts';
import { BusConsumer, OnEvent } from '@mlops/runtime';
import { PredictionIntake } from '../predictions/prediction-intake';

/** prediction.logged, in the service's own group (`<MONITORING_GROUP>`). */
@BusConsumer()
export class PredictionConsumer {
  constructor(private readonly intake: PredictionIntake) {}

  @OnEvent('prediction.logged')
  onPrediction(event: EventOf<'prediction.logged'>) {
    return this.intake.onPrediction(event);
  }
}

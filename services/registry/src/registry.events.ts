import { v5 as uuidv5 } from 'uuid';
import { createEvent } from '@mlops/contracts';
import { failedChecksOf } from './gate/policy-checks';
import { SERVICE } from './registry.names';
import type { GateDecisionRow, ModelVersionRow } from './store/entities';

/** Follow-ups of an event get ids derived from its id, so a redelivery re-sends the same events. */
const EVENT_ID_NAMESPACE = '8f3b6a52-1c4d-4e7f-9b2a-5d6e7f8a9b0c';

/** model.registered of a version; with a cause (training.completed), its id derives from the cause's. */
export function modelRegistered(row: ModelVersionRow, cause: { id?: string; correlationId?: string }, decision?: GateDecisionRow | null) {
  return createEvent('model.registered', {
    id: cause.id ? uuidv5(`${cause.id}/model.registered`, EVENT_ID_NAMESPACE) : undefined,
    source: SERVICE,
    subject: row.name,
    correlationId: cause.correlationId,
    data: {
      model: row.name,
      version: row.version,
      runId: row.runId ?? undefined,
      datasetHash: row.datasetHash ?? undefined,
      artifactHash: row.artifactHash,
      servable: row.servable === false ? false : undefined,
      gate: decision
        ? {
            passed: decision.passed,
            reason: decision.reason,
            metric: decision.metric,
            candidateScore: decision.candidateScore ?? undefined,
            championVersion: decision.championVersion ?? undefined,
            championScore: decision.championScore ?? undefined,
            failedChecks: failedChecksOf(decision) ?? undefined,
          }
        : undefined,
    },
  });
}

/** deployment.requested of a version: a canary with `share`, or a full rollout; with a cause, its id derives from the cause's. */
export function deploymentRequested(
  row: ModelVersionRow,
  cause: { id?: string; correlationId?: string },
  rollout: { strategy: 'canary'; share: number } | { strategy: 'full' },
) {
  return createEvent('deployment.requested', {
    id: cause.id ? uuidv5(`${cause.id}/deployment.requested`, EVENT_ID_NAMESPACE) : undefined,
    source: SERVICE,
    subject: row.name,
    correlationId: cause.correlationId,
    data: {
      model: row.name,
      version: row.version,
      artifactUri: row.artifactUri,
      strategy: rollout.strategy,
      ...(rollout.strategy === 'canary' ? { canaryShare: rollout.share } : {}),
    },
  });
}

/** deployment.requested (canary) of a version that passed the gate; with a cause, its id derives from the cause's. */
export function canaryDeploymentRequested(row: ModelVersionRow, cause: { id?: string; correlationId?: string }, canaryShare: number) {
  return deploymentRequested(row, cause, { strategy: 'canary', share: canaryShare });
}

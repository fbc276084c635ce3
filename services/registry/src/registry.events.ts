import { v5 as uuidv5 } from 'uuid';
import { createEvent, type PayloadOf } from '@mlops/contracts';
import type { Rollout } from './deployments/deployments';
import { failedChecksOf, recordedChecks } from './gate/policy-checks';
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

/** What serving checks before routing a version (deployment.requested `validation`). */
export type DeploymentValidation = NonNullable<PayloadOf<'deployment.requested'>['validation']>;

/** The validation of a version under a latency bound: serving times its holdout rows (none: serving rejects it). */
export function latencyValidation(row: ModelVersionRow, latencyP99Ms: number | undefined): DeploymentValidation | undefined {
  if (latencyP99Ms === undefined) return undefined;
  return { latencyP99Ms, ...(row.holdoutUri ? { holdoutUri: row.holdoutUri } : {}) };
}

/** The validation a gate decision leaves to serving: its latency check's bound. */
export function validationOfDecision(row: ModelVersionRow, decision: GateDecisionRow | null): DeploymentValidation | undefined {
  const latency = decision ? recordedChecks(decision)?.find((c) => c.name === 'latency') : undefined;
  return latencyValidation(row, typeof latency?.bound === 'number' ? latency.bound : undefined);
}

/** deployment.requested of a version: a canary with `share`, or a full rollout; with a cause, its id derives from the cause's. */
export function deploymentRequested(
  row: ModelVersionRow,
  cause: { id?: string; correlationId?: string },
  rollout: Rollout,
  validation?: DeploymentValidation,
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
      ...('share' in rollout ? { canaryShare: rollout.share } : {}),
      ...(rollout.strategy === 'ab' && rollout.labels ? { abLabels: rollout.labels } : {}),
      ...(validation ? { validation } : {}),
    },
  });
}

/** deployment.requested (canary) of a version that passed the gate; with a cause, its id derives from the cause's. */
export function canaryDeploymentRequested(row: ModelVersionRow, cause: { id?: string; correlationId?: string }, canaryShare: number, validation?: DeploymentValidation) {
  return deploymentRequested(row, cause, { strategy: 'canary', share: canaryShare }, validation);
}

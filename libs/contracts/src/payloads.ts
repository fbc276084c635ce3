import { z } from 'zod';
import { PREDICTION_TENSORS_VERSION, predictionTensorsIssues, TENSOR_DATATYPES } from './prediction-tensors';
import type { EventType } from './topics';

const name = z.string().min(1).max(200);
const isoTime = z.iso.datetime({ offset: true });
const scalar = z.union([z.number(), z.string(), z.boolean(), z.null()]);
const metrics = z.record(z.string(), z.number());

export const fieldTypeSchema = z.enum(['number', 'integer', 'string', 'boolean', 'timestamp']);

const tensorSpec = z.object({
  name,
  datatype: z.string().min(1),
  shape: z.array(z.number().int()),
});

const fieldIssue = z.object({ field: z.string(), message: z.string() });

const featureDrift = z.object({
  feature: name,
  statistic: z.string().min(1),
  value: z.number(),
  threshold: z.number(),
  drifted: z.boolean(),
});

/** A check serving made before routing a version (deployment.requested `validation`). */
const deploymentCheck = z.object({
  name: z.literal('latency'),
  passed: z.boolean(),
  /** p99 ms over the timed holdout rows; null when nothing could be timed. */
  measured: z.number().nonnegative().nullable(),
  bound: z.number(),
  detail: z.string().min(1),
});

/** prediction.logged v1: one event per row, values as JSON (still read; serving writes v2). */
const predictionRow = z.object({
  schemaVersion: z.literal(1).optional(),
  predictionId: z.string().min(1),
  model: name,
  version: z.number().int().positive(),
  inputs: z.record(z.string(), scalar),
  outputs: z.record(z.string(), z.union([z.number(), z.array(z.number()), z.string()])),
  latencyMs: z.number().nonnegative(),
  requestKey: z.string().optional(),
});

/** A tensor of prediction.logged v2: base64 of its little-endian bytes (prediction-tensors.ts). */
const wireTensor = z.object({
  name,
  datatype: z.enum(TENSOR_DATATYPES),
  shape: z.array(z.number().int().nonnegative()),
  data: z.string(),
  /** Optional (older writers send none): one name per element of a row, e.g. the model's feature names. */
  featureNames: z.array(name).optional(),
});

/** prediction.logged v2: one event per request (or batch), its tensors as binary columns. */
const predictionTensors = z
  .object({
    schemaVersion: z.literal(PREDICTION_TENSORS_VERSION),
    model: name,
    version: z.number().int().positive(),
    requestKey: z.string().optional(),
    /** A shadow version's answer to the same request (never returned to the client); its prediction ids are the answered ones'. */
    shadow: z.literal(true).optional(),
    latencyMs: z.number().nonnegative(),
    predictionIds: z.array(z.string().min(1)),
    rows: z.array(z.number().int().nonnegative()),
    inputs: z.array(wireTensor).min(1),
    outputs: z.array(wireTensor),
  })
  .superRefine((payload, ctx) => {
    for (const issue of predictionTensorsIssues(payload)) ctx.addIssue({ code: 'custom', path: issue.field.split('.'), message: issue.message });
  });

/** One payload schema per event type; the event type is also the topic name. */
export const payloadSchemas = {
  'data.validated': z.object({
    source: name,
    recordId: z.string().min(1),
    contractVersion: z.number().int().positive(),
    eventTime: isoTime.optional(),
    entityKey: z.string().optional(),
    record: z.record(z.string(), scalar),
    /** The Kafka key the producer gave the raw record (raw.<source> path only). */
    producerKey: z.string().optional(),
    /** The Kafka headers the producer gave the raw record (raw.<source> path only). */
    headers: z.record(z.string(), z.string()).optional(),
  }),
  'data.rejected': z.object({
    source: z.string(),
    recordId: z.string().optional(),
    reasons: z.array(fieldIssue).min(1),
    record: z.unknown(),
  }),
  'retrain.requested': z.object({
    model: name,
    featureView: name.optional(),
    reason: z.string().min(1),
    triggeredBy: z.string().optional(),
    /** The model's training params (the loop's PUT /api/models/:model/training-params); the trainer's defaults fill the rest. */
    params: z.record(z.string(), z.unknown()).optional(),
  }),
  'dataset.materialized': z.object({
    datasetId: name,
    version: z.number().int().positive(),
    hash: z.string().regex(/^[a-f0-9]{64}$/, 'expected a sha256 hex digest'),
    featureView: name,
    model: name.optional(),
    uri: z.string().min(1),
    rowCount: z.number().int().nonnegative(),
    schema: z.array(z.object({ name, type: fieldTypeSchema })),
    timeRange: z.object({ from: isoTime, to: isoTime }).optional(),
    /** The training params of the retrain.requested it answers: the job trains with them. */
    params: z.record(z.string(), z.unknown()).optional(),
  }),
  'training.started': z.object({
    jobId: name,
    model: name,
    datasetVersion: z.string().optional(),
    trainer: z.string().min(1),
  }),
  'training.completed': z.object({
    jobId: name,
    model: name,
    runId: z.string().min(1),
    datasetId: z.string().optional(),
    datasetHash: z.string().optional(),
    codeVersion: z.string().optional(),
    artifactUri: z.string().min(1),
    /** The holdout feature rows beside the model (NPY float32 [rows, features], see holdout-npy.ts): what serving times a release policy's latency bound on. */
    holdoutUri: z.string().min(1).optional(),
    metrics,
    params: z.record(z.string(), z.string()).default({}),
    signature: z.object({ inputs: z.array(tensorSpec), outputs: z.array(tensorSpec) }).optional(),
    /** The run's MLflow logged model (model.onnx + MLmodel), when tracking took it. */
    loggedModel: z
      .object({
        modelId: z.string().min(1),
        /** `models:/<modelId>`: what mlflow.onnx.load_model and the registry's create-version take. */
        uri: z.string().min(1),
        /** Where its files are, e.g. `mlflow-artifacts:/<experiment>/models/<modelId>/artifacts`. */
        artifactUri: z.string().min(1),
      })
      .optional(),
  }),
  'training.failed': z.object({ jobId: name, model: name, error: z.string().min(1) }),
  'run.finished': z.object({
    runId: z.string().min(1),
    experimentId: z.string().min(1),
    status: z.enum(['FINISHED', 'FAILED', 'KILLED']),
    metrics: metrics.default({}),
  }),
  'model.registered': z.object({
    model: name,
    version: z.number().int().positive(),
    runId: z.string().optional(),
    datasetHash: z.string().optional(),
    artifactHash: z.string().min(1),
    /** false when the version has no ONNX model (registered as MLflow accepts it, never deployed); absent = servable. */
    servable: z.boolean().optional(),
    /** The quality gate's decision when the version came from training (absent for a manual upload). */
    gate: z
      .object({
        passed: z.boolean(),
        reason: z.string().min(1),
        metric: z.string().optional(),
        candidateScore: z.number().optional(),
        championVersion: z.number().int().positive().optional(),
        championScore: z.number().optional(),
        /** The release policy's checks that failed (named as in the registry's gate decision). */
        failedChecks: z.array(z.string().min(1)).optional(),
      })
      .optional(),
  }),
  'model.promoted': z.object({
    model: name,
    version: z.number().int().positive(),
    alias: z.string().min(1),
    previousVersion: z.number().int().positive().optional(),
  }),
  'model.rolled_back': z.object({
    model: name,
    version: z.number().int().positive(),
    restoredVersion: z.number().int().positive().optional(),
    reason: z.string().min(1),
  }),
  'deployment.requested': z.object({
    model: name,
    version: z.number().int().positive(),
    artifactUri: z.string().min(1),
    /**
     * full: all traffic at once; canary: `canaryShare` of it; shadow: a copy of every request,
     * answers logged (prediction.logged `shadow`), never returned; blue-green: all traffic at
     * once after a warm-up, the previous version kept loaded for an instant rollback; ab: a
     * fixed `canaryShare` until each side has `abLabels` labels, then a significance test decides.
     */
    strategy: z.enum(['canary', 'full', 'shadow', 'blue-green', 'ab']),
    canaryShare: z.number().min(0).max(1).default(0.1),
    /** ab: labels each side needs before the test (absent: the monitor's MONITORING_AB_LABELS). */
    abLabels: z.number().int().positive().optional(),
    /**
     * The release policy's checks serving makes after load and warm-up, before any traffic:
     * the p99 latency of one holdout row per request must not exceed `latencyP99Ms`; without a
     * readable `holdoutUri` the version is rejected.
     */
    validation: z.object({ latencyP99Ms: z.number().positive(), holdoutUri: z.string().min(1).optional() }).optional(),
  }),
  'deployment.completed': z.object({
    model: name,
    version: z.number().int().positive(),
    /** rejected: loaded, but a check of `validation` failed; unloaded, never routed (trafficShare 0). */
    status: z.enum(['serving', 'failed', 'rejected']),
    trafficShare: z.number().min(0).max(1),
    error: z.string().optional(),
    /** The deployment.requested strategy (absent from older events: full or canary, by trafficShare). */
    strategy: z.enum(['canary', 'full', 'shadow', 'blue-green', 'ab']).optional(),
    /** ab: the deployment.requested's abLabels. */
    abLabels: z.number().int().positive().optional(),
    /** The checks of the deployment.requested's `validation`, each with what serving measured and the bound. */
    checks: z.array(deploymentCheck).optional(),
  }),
  /** v2 (`schemaVersion: 2`): one event per request with its tensors; v1 (no schemaVersion): one event per row. */
  'prediction.logged': z.discriminatedUnion('schemaVersion', [predictionTensors, predictionRow]),
  'label.observed': z.object({
    predictionId: z.string().min(1),
    model: name.optional(),
    label: z.union([z.number(), z.string()]),
  }),
  'drift.detected': z.object({
    model: name,
    version: z.number().int().positive(),
    window: z.object({ start: isoTime, end: isoTime, size: z.number().int().positive() }),
    datasetDrift: z.object({ share: z.number().min(0).max(1), threshold: z.number().min(0).max(1) }),
    features: z.array(featureDrift).min(1),
  }),
  'performance.degraded': z.object({
    model: name,
    version: z.number().int().positive(),
    metric: z.string().min(1),
    value: z.number(),
    baseline: z.number(),
    threshold: z.number(),
  }),
  /** The monitor's verdict on a canary version against the champion, on live traffic. */
  'canary.evaluated': z.object({
    model: name,
    version: z.number().int().positive(),
    championVersion: z.number().int().positive().optional(),
    verdict: z.enum(['promote', 'rollback']),
    reason: z.string().min(1),
    predictions: z.number().int().nonnegative(),
    labels: z.number().int().nonnegative(),
    metric: z.string().optional(),
    canaryValue: z.number().optional(),
    championValue: z.number().optional(),
    /** The confidence the verdict asked for, and the lower bound at it of how much worse the canary is. */
    confidence: z.number().optional(),
    shortfallBound: z.number().optional(),
    /** `shadow` when the challenger ran as a shadow, `ab` for an A/B test (absent: a canary). */
    strategy: z.enum(['canary', 'shadow', 'ab']).optional(),
    /** ab: the two-proportion z statistic (challenger minus champion accuracy) and its two-sided p-value. */
    zScore: z.number().optional(),
    pValue: z.number().min(0).max(1).optional(),
    /** A shadow's agreement with the champion on the same requests: share of identical predictions among `compared`. */
    agreement: z.object({ compared: z.number().int().nonnegative(), share: z.number().min(0).max(1) }).optional(),
  }),
} satisfies Record<EventType, z.ZodType>;

export type PayloadOf<T extends EventType> = z.output<(typeof payloadSchemas)[T]>;
export type PayloadInput<T extends EventType> = z.input<(typeof payloadSchemas)[T]>;

import type { Signature } from '../onnx/graph';
import type { MetricPoint } from './tracking-client';

export interface JobRequest {
  model: string;
  datasetUri: string;
  target?: string;
  params?: Record<string, unknown>;
  datasetId?: string;
  datasetHash?: string;
  datasetVersion?: string;
  /** Carried into training.* events (the loop this job belongs to). */
  correlationId?: string;
  jobId?: string;
}

export type JobStatus = 'queued' | 'running' | 'completed' | 'failed';

export interface Job {
  jobId: string;
  model: string;
  status: JobStatus;
  trainer: string;
  datasetUri: string;
  /** The materialized dataset trained on (dataset.materialized or POST /jobs "dataset"); absent for a bare datasetUri. */
  datasetId?: string;
  datasetHash?: string;
  target: string;
  artifactUri?: string;
  metrics?: Record<string, number>;
  params?: Record<string, string>;
  signature?: Signature;
  runId?: string;
  error?: string;
  queuedAt: string;
  startedAt?: string;
  finishedAt?: string;
}

/** What the job store keeps per job: enough to run it again after a crash. */
export interface JobRecord {
  job: Job;
  request: JobRequest;
}

/** What a trainer (built-in or external) gives a job: final metrics, the params to record, per-step metrics. */
export interface TrainingOutcome {
  metrics: Record<string, number>;
  params: Record<string, string>;
  steps: MetricPoint[];
}

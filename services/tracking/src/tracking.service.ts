import { Injectable } from '@nestjs/common';
import { ArtifactStore } from './artifacts/artifact-store';
import { RunArtifactsService } from './artifacts/run-artifacts.service';
import { ExperimentService } from './experiments/experiment.service';
import { MetricHistoryService } from './runs/metric-history.service';
import { RunLogService } from './runs/run-log.service';
import { RunService } from './runs/run.service';
import { RunSearchService } from './search/run-search.service';

/**
 * MLflow's tracking store, one use case per service, in one handle for callers in the same
 * process (startTracking returns it as `service`). It owns nothing itself.
 */
@Injectable()
export class TrackingService {
  constructor(
    readonly experiments: ExperimentService,
    readonly runs: RunService,
    readonly runLog: RunLogService,
    readonly metricHistory: MetricHistoryService,
    readonly search: RunSearchService,
    readonly runArtifacts: RunArtifactsService,
    /** Proxied artifacts (`mlflow-artifacts:/...`) on disk. */
    readonly artifacts: ArtifactStore,
  ) {}
}

import type { Feeds, RunTiming } from './batcher';
import { decodeRequest, type InferRequestMessage } from './infer-request';
import type { LoadedModel, ModelRepository } from './model-repository';
import type { ModelStatistics } from './model-statistics';
import { asOneRow } from './prediction-event';
import type { PredictionLog } from './prediction-log';
import type { ServingLogger } from './serving.logger';

/** What the answered request hands its shadow: the same request, its id (so prediction ids match), trace and logged rows. */
export interface AnsweredRequest {
  request: InferRequestMessage;
  requestId: string;
  traceparent?: string;
  /** The rows SERVING_LOG_SAMPLE_RATE sampled of the answer: the shadow's are logged for the same rows, so a label joins both. */
  sampled: readonly number[];
}

/** Nanoseconds since a performance.now() reading. */
const since = (start: number) => (performance.now() - start) * 1e6;

/**
 * The shadow strategy's copy of traffic: once an unversioned request has been answered, the
 * same request runs on the model's shadow version (after the response is handed to the
 * protocol, on the next turn of the event loop), and its answer goes to prediction.logged
 * marked `shadow` under the answered request's prediction ids, so a label joins both. The
 * client never sees it; a shadow that fails is counted in its own statistics and warned about
 * (at most once a minute), and the answer already sent is unaffected.
 */
export class ShadowTraffic {
  private lastWarning = 0;

  constructor(
    private readonly repository: ModelRepository,
    private readonly predictions: PredictionLog,
    private readonly statistics: ModelStatistics,
    private readonly log?: ServingLogger,
  ) {}

  /** Queues the shadow run of an answered request; a model without a shadow costs one map lookup. */
  copy(answered: AnsweredRequest): void {
    const lease = this.repository.acquireShadow(answered.request.model_name);
    if (!lease) return;
    setImmediate(() => {
      this.run(answered, lease.model)
        .catch((error: unknown) => this.warn(`shadow '${lease.model.name}' version ${lease.model.version} failed on request ${answered.requestId}: ${(error as Error).message}`))
        .finally(() => lease.release());
    });
  }

  private async run({ request, requestId, traceparent, sampled }: AnsweredRequest, model: LoadedModel): Promise<void> {
    const started = performance.now();
    try {
      const decoded = decodeRequest(model, request);
      const run: RunTiming = { runNs: 0, batchRows: decoded.rows, first: true };
      const results = await model.infer(decoded.feeds, decoded.rows, run);
      const outputs: Feeds = Object.fromEntries(decoded.outputs.map((name) => [name, results[name]]));
      this.predictions.record(
        {
          model: model.name,
          version: model.version,
          requestId,
          inputs: model.batchable ? decoded.feeds : asOneRow(decoded.feeds),
          outputs: model.batchable ? outputs : asOneRow(outputs),
          latencyMs: performance.now() - started,
          featureNames: model.naming.names,
          traceparent,
          shadow: true,
        },
        decoded.rows,
        sampled,
      );
      this.statistics.succeeded(model.name, model.version, { rows: decoded.rows, totalNs: since(started), inputNs: 0, waitNs: since(started), outputNs: 0, run });
    } catch (error) {
      this.statistics.failed(model.name, model.version, since(started));
      throw error;
    }
  }

  private warn(message: string): void {
    const now = Date.now();
    if (now - this.lastWarning < 60_000) return;
    this.lastWarning = now;
    this.log?.warn(message);
  }
}

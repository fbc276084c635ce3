import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Optional } from '@nestjs/common';
import type { Feeds, RunTiming } from './batcher';
import { decodeRequest, requestKey, type DecodedRequest, type InferRequestMessage } from './infer-request';
import { ModelRepository, type LoadedModel } from './model-repository';
import { ModelStatistics } from './model-statistics';
import { asOneRow } from './prediction-event';
import { PredictionLog } from './prediction-log';
import { SERVING_LOGGER, type ServingLogger } from './serving.logger';
import { ShadowTraffic } from './shadow-traffic';
import { invalid } from './tensors';
import type { RouteName } from './traffic-split';

/** What a protocol gets to write its response from. */
export interface InferOutcome {
  model: LoadedModel;
  decoded: DecodedRequest;
  results: Feeds;
  route: RouteName;
  /** The prediction id of each request row, `<request id>:<row>`: what labels name (label.observed). */
  predictionIds: string[];
}

/** Nanoseconds since a performance.now() reading. */
const since = (start: number) => (performance.now() - start) * 1e6;

/**
 * One inference, whatever the protocol (gRPC ModelInfer and ModelStreamInfer, v2 REST): picks
 * the version (canary routing), checks and decodes the tensors, runs them through the
 * version's batcher, lets the protocol encode its response, then logs the prediction and
 * counts the request in the statistics; an unversioned request of a model with a shadow is
 * then copied to the shadow (ShadowTraffic). Protocols differ only in how they read the
 * request and `encode` the response.
 */
@Injectable()
export class InferenceService {
  private readonly shadows: ShadowTraffic;

  constructor(
    private readonly repository: ModelRepository,
    private readonly predictions: PredictionLog,
    private readonly statistics: ModelStatistics,
    @Optional() @Inject(SERVING_LOGGER) log?: ServingLogger,
  ) {
    this.shadows = new ShadowTraffic(repository, predictions, statistics, log);
  }

  /** `traceparent`: the call's SERVER span, carried into prediction.logged. */
  async infer<T>(request: InferRequestMessage, encode: (outcome: InferOutcome) => T, traceparent?: string): Promise<T> {
    const started = performance.now();
    if (!request.model_name) throw invalid('model_name is required');
    const lease = this.repository.acquire(request.model_name, request.model_version, requestKey(request));
    const { model, route } = lease;
    try {
      const decoded = decodeRequest(model, request);
      const inputNs = since(started);
      const run: RunTiming = { runNs: 0, batchRows: decoded.rows, first: true };
      const submitted = performance.now();
      const results = await model.infer(decoded.feeds, decoded.rows, run);
      const waitNs = since(submitted);
      const encoding = performance.now();
      // A request without an id gets a random one, so its rows' prediction ids are unique too.
      const requestId = request.id || randomUUID();
      const predictionIds = Array.from({ length: decoded.rows }, (_, row) => `${requestId}:${row}`);
      const response = encode({ model, decoded, results, route, predictionIds });
      const outputNs = since(encoding);
      const selected: Feeds = {};
      for (const name of decoded.outputs) selected[name] = results[name];
      const sampled = this.predictions.record(
        {
          model: model.name,
          version: model.version,
          requestId,
          inputs: model.batchable ? decoded.feeds : asOneRow(decoded.feeds),
          outputs: model.batchable ? selected : asOneRow(selected),
          latencyMs: performance.now() - started,
          featureNames: model.naming.names,
          traceparent,
        },
        decoded.rows,
      );
      this.statistics.succeeded(model.name, model.version, { rows: decoded.rows, totalNs: since(started), inputNs, waitNs, outputNs, run });
      if (!request.model_version) this.shadows.copy({ request, requestId, traceparent, sampled });
      return response;
    } catch (error) {
      this.statistics.failed(model.name, model.version, since(started));
      throw error;
    } finally {
      lease.release();
    }
  }
}

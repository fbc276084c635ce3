import * as ort from 'onnxruntime-node';
import { DynamicBatcher, type BatcherOptions, type Feeds, type RunTiming } from './batcher';
import { NotFoundError } from '@mlops/errors';
import { featureNamingOfFile, type FeatureNaming } from './feature-names';
import { DATATYPES, v2DatatypeOf, type HostTensor, type V2Datatype } from './tensors';
import { keyFraction, TrafficSplit, type RouteName, type TrafficRoute } from './traffic-split';

export interface TensorMetadata {
  name: string;
  datatype: V2Datatype;
  /** -1 for a dynamic dimension */
  shape: number[];
}

export interface LoadedModel {
  name: string;
  version: number;
  path: string;
  platform: 'onnxruntime_onnx';
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
  /** The names of the columns of its one input (ONNX metadata feature_names), or why it has none. */
  naming: FeatureNaming;
  /** Every input and output has a dynamic first dimension: requests can share a run. */
  batchable: boolean;
  batcher: DynamicBatcher;
  session: ort.InferenceSession;
  /** Runs the rows of one (validated) request, batched with others when the model allows; `timing` gets the run's duration. */
  infer(feeds: Feeds, rows: number, timing?: RunTiming): Promise<Feeds>;
}

/** A model picked for one request; `release()` once the request is done (drain accounting). */
export interface Lease {
  model: LoadedModel;
  route: RouteName;
  release(): void;
}

function tensorMetadata(model: string, list: readonly ort.InferenceSession.ValueMetadata[]): TensorMetadata[] {
  return list.map((m) => {
    if (!m.isTensor) throw new Error(`model '${model}': value '${m.name}' is not a tensor; only tensor inputs/outputs are served`);
    const datatype = v2DatatypeOf(m.type);
    if (!datatype) throw new Error(`model '${model}': tensor '${m.name}' has type ${m.type}, which the v2 protocol cannot carry`);
    // ort reports a symbolic or unknown dimension as a string (its name, or '').
    return { name: m.name, datatype, shape: m.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1)) };
  });
}

function toOrt(t: HostTensor): ort.Tensor {
  return new ort.Tensor(DATATYPES[t.datatype].ort as 'float32', t.data as Float32Array, t.shape);
}

function fromOrt(model: string, name: string, value: ort.OnnxValue): HostTensor {
  const t = value as ort.Tensor;
  const datatype = v2DatatypeOf(t.type);
  // Not a domain error: answered INTERNAL.
  if (!datatype) throw new Error(`model '${model}': output '${name}' has type ${t.type}, which the v2 protocol cannot carry`);
  return { datatype, shape: [...t.dims], data: t.data as HostTensor['data'] };
}

/** A run outside the batcher, timed like the batcher times its runs. */
function timed(run: (feeds: Feeds) => Promise<Feeds>, feeds: Feeds, rows: number, timing?: RunTiming): Promise<Feeds> {
  const started = performance.now();
  const done = () => {
    if (!timing) return;
    timing.runNs = (performance.now() - started) * 1e6;
    timing.batchRows = rows;
    timing.first = true;
  };
  return run(feeds).then(
    (outputs) => {
      done();
      return outputs;
    },
    (error: unknown) => {
      done();
      throw error;
    },
  );
}

/** How onnxruntime sessions are created. */
export interface SessionSettings {
  /** Intra-op threads per session; 0 or unset: onnxruntime's default (one per core). */
  intraOpThreads?: number;
}

function sessionOptions(settings: SessionSettings): ort.InferenceSession.SessionOptions {
  if (!settings.intraOpThreads) return {};
  // Inter-op threads only serve the parallel execution mode, which these sessions do not use.
  return { intraOpNumThreads: settings.intraOpThreads, interOpNumThreads: 1 };
}

/** A version this server has loaded at some point, and whether it is loaded now (the model repository index). */
export interface KnownVersion {
  name: string;
  version: number;
  path: string;
  loaded: boolean;
}

/** No such model or version loaded here (gRPC NOT_FOUND, through grpcStatusOf). */
export class ModelNotFoundError extends NotFoundError {}

/**
 * The ONNX models this server holds: any number of models, each with any number of
 * versions, each an onnxruntime session with its own dynamic batcher. Swapping a version in
 * is one Map assignment, after the session is loaded and warmed, so requests never see a
 * half-loaded model.
 *
 * Requests that name no version follow the model's route (TrafficSplit): the stable version,
 * or a canary beside it that gets `share` of them, chosen by a stable hash of the request key
 * (the same key always lands on the same side). Every change of route is one assignment. A version
 * taken out of service (promotion drains the old stable, rollback drops the canary) leaves
 * the map at once and its session is released when its last in-flight request is done.
 */
export class ModelRepository {
  private readonly models = new Map<string, Map<number, LoadedModel>>();
  private readonly inflight = new Map<LoadedModel, number>();
  private readonly retiring = new Map<LoadedModel, () => void>();
  /** Every version ever loaded, by model: its artifact path stays known after it is unloaded. */
  private readonly known = new Map<string, Map<number, string>>();

  constructor(
    private readonly batching: BatcherOptions,
    private readonly sessions: SessionSettings = {},
    private readonly traffic: TrafficSplit = new TrafficSplit(),
  ) {}

  /**
   * Loads (and optionally warms) a version. `activate` (default true): the version takes all
   * unversioned traffic when it is the model's first or newer than its stable version (the
   * static SERVING_MODELS behaviour); false leaves routing to setStable/setCanary.
   */
  async load(name: string, version: number, path: string, options: { warm?: boolean; activate?: boolean } = {}): Promise<LoadedModel> {
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(path, sessionOptions(this.sessions));
    } catch (error) {
      throw new Error(`model '${name}' version ${version}: cannot load ${path}: ${(error as Error).message}`);
    }
    const inputs = tensorMetadata(name, session.inputMetadata);
    const outputs = tensorMetadata(name, session.outputMetadata);
    const naming = await featureNamingOfFile(path, inputs).catch((error: unknown): FeatureNaming => ({ note: `ONNX metadata not read: ${(error as Error).message}`, problem: true }));
    const batchable = [...inputs, ...outputs].every((t) => t.shape.length > 0 && t.shape[0] === -1);
    const run = async (feeds: Feeds): Promise<Feeds> => {
      const results = await session.run(Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, toOrt(t)])));
      return Object.fromEntries(Object.entries(results).map(([k, v]) => [k, fromOrt(name, k, v)]));
    };
    const batcher = new DynamicBatcher(run, this.batching);
    const model: LoadedModel = {
      name,
      version,
      path,
      platform: 'onnxruntime_onnx',
      inputs,
      outputs,
      naming,
      batchable,
      batcher,
      session,
      infer: (feeds, rows, timing) => (batchable ? batcher.submit(feeds, rows, timing) : timed(run, feeds, rows, timing)),
    };
    if (options.warm) await this.warm(model);
    let versions = this.models.get(name);
    if (!versions) this.models.set(name, (versions = new Map()));
    const previous = versions.get(version);
    versions.set(version, model);
    // Requests already running on a replaced session finish first.
    if (previous) this.retire(previous);
    if (!this.known.has(name)) this.known.set(name, new Map());
    this.known.get(name)!.set(version, path);
    if (options.activate !== false) this.traffic.activate(name, version);
    return model;
  }

  /** The route of a model (a copy), undefined when it has none. */
  route(name: string): TrafficRoute | undefined {
    return this.traffic.route(name);
  }

  /** All unversioned traffic to a loaded version at once; a canary is dropped from the route (it stays loaded). */
  setStable(name: string, version: number): void {
    this.resolve(name, String(version));
    this.traffic.setStable(name, version);
  }

  /** `share` of unversioned traffic to a loaded version beside the stable one. */
  setCanary(name: string, version: number, share: number): void {
    this.resolve(name, String(version));
    this.traffic.setCanary(name, version, share);
  }

  /** A loaded version gets a copy of every unversioned request beside the stable one (see ShadowTraffic). */
  setShadow(name: string, version: number): void {
    this.resolve(name, String(version));
    this.traffic.setShadow(name, version);
  }

  /**
   * The canary (or shadow) becomes stable (100%) and the old stable is drained and unloaded.
   * Returns the old stable version, or undefined when `version` is neither.
   */
  promoteCanary(name: string, version: number): number | undefined {
    const old = this.traffic.promote(name, version);
    if (old !== undefined && old !== version) this.unload(name, old);
    return old;
  }

  /** Drops the canary or shadow (drained and unloaded); stable keeps 100%. False when `version` is neither. */
  dropCanary(name: string, version: number): boolean {
    if (!this.traffic.drop(name, version)) return false;
    this.unload(name, version);
    return true;
  }

  /** Takes a version out of the map now; its session is released once its in-flight requests finish. */
  unload(name: string, version: number): void {
    const versions = this.models.get(name);
    const model = versions?.get(version);
    if (!versions || !model) return;
    versions.delete(version);
    this.retire(model);
  }

  /** Takes every version of a model out of service (each drained as `unload` does) and forgets its route. False when none was loaded. */
  unloadModel(name: string): boolean {
    const versions = this.versions(name);
    for (const version of versions) this.unload(name, version);
    this.traffic.forget(name);
    return versions.length > 0;
  }

  /** Every version loaded now or before, by model name and version. */
  catalog(): KnownVersion[] {
    return [...this.known.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .flatMap(([name, versions]) =>
        [...versions.entries()]
          .sort(([a], [b]) => a - b)
          .map(([version, path]) => ({ name, version, path, loaded: this.models.get(name)?.has(version) ?? false })),
      );
  }

  private retire(model: LoadedModel): void {
    const release = () => {
      this.retiring.delete(model);
      void model.session.release().catch(() => undefined);
    };
    if (!this.inflight.get(model)) release();
    else this.retiring.set(model, release);
  }

  /**
   * Picks the version for one request and counts it in flight until `release()`. A named
   * version is exactly that version; no version follows the route, the canary side chosen by
   * `key` (a random draw per request when there is no key).
   */
  acquire(name: string, version = '', key?: string): Lease {
    let model: LoadedModel;
    let route: RouteName = 'stable';
    const current = this.traffic.current(name);
    if (version === '' && current?.canary) {
      const fraction = key === undefined || key === '' ? Math.random() : keyFraction(key);
      if (fraction < current.canary.share) route = 'canary';
      model = this.resolve(name, String(route === 'canary' ? current.canary.version : current.stable));
    } else {
      model = this.resolve(name, version);
      if (current?.canary?.version === model.version) route = 'canary';
    }
    return this.lease(model, route);
  }

  /** The model's shadow version for a copy of an unversioned request (counted in flight until `release()`), if it has one. */
  acquireShadow(name: string): Lease | undefined {
    const shadow = this.traffic.current(name)?.shadow;
    const model = shadow && this.models.get(name)?.get(shadow.version);
    return model ? this.lease(model, 'shadow') : undefined;
  }

  private lease(model: LoadedModel, route: RouteName): Lease {
    this.inflight.set(model, (this.inflight.get(model) ?? 0) + 1);
    let released = false;
    return {
      model,
      route,
      release: () => {
        if (released) return;
        released = true;
        const left = (this.inflight.get(model) ?? 1) - 1;
        if (left > 0) {
          this.inflight.set(model, left);
          return;
        }
        this.inflight.delete(model);
        this.retiring.get(model)?.();
      },
    };
  }

  /** Requests in flight on a version (0 when none or not loaded). */
  inFlight(name: string, version: number): number {
    const model = this.models.get(name)?.get(version);
    return model ? (this.inflight.get(model) ?? 0) : 0;
  }

  /** One run on a zero-filled row, so the first real request does not pay for lazy init. */
  private async warm(model: LoadedModel): Promise<void> {
    const feeds: Feeds = {};
    for (const input of model.inputs) {
      const shape = input.shape.map((d) => (d < 0 ? 1 : d));
      const count = shape.reduce((n, d) => n * d, 1);
      const info = DATATYPES[input.datatype];
      feeds[input.name] = { datatype: input.datatype, shape, data: info.array ? new info.array(count) : Array(count).fill('') };
    }
    await model.session.run(Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, toOrt(t)])));
  }

  /** A model by name and version; the stable version when `version` is empty. */
  resolve(name: string, version = ''): LoadedModel {
    const versions = this.models.get(name);
    if (!versions || versions.size === 0) {
      throw new ModelNotFoundError(`model '${name}' is not loaded (loaded: ${this.names().join(', ') || 'none'})`);
    }
    if (version === '') {
      const stable = this.traffic.current(name)?.stable;
      return versions.get(stable ?? -1) ?? versions.get(Math.max(...versions.keys()))!;
    }
    const model = /^\d+$/.test(version) ? versions.get(Number(version)) : undefined;
    if (!model) {
      throw new ModelNotFoundError(`model '${name}' has no version '${version}' (loaded versions: ${[...versions.keys()].sort((a, b) => a - b).join(', ')})`);
    }
    return model;
  }

  versions(name: string): number[] {
    return [...(this.models.get(name)?.keys() ?? [])].sort((a, b) => a - b);
  }

  names(): string[] {
    return [...this.models.entries()]
      .filter(([, versions]) => versions.size > 0)
      .map(([name]) => name)
      .sort();
  }

  all(): LoadedModel[] {
    return [...this.models.values()].flatMap((v) => [...v.values()]);
  }

  async close(): Promise<void> {
    const all = [...this.all(), ...this.retiring.keys()];
    this.models.clear();
    this.traffic.clear();
    this.retiring.clear();
    await Promise.all(all.map((m) => m.session.release().catch(() => undefined)));
  }
}

import { Inject, Injectable } from '@nestjs/common';
import { EventBus } from '@mlops/bus';
import { createEvent } from '@mlops/contracts';
import { FailedPreconditionError, InvalidInputError, NotFoundError, UnavailableError } from '@mlops/errors';
import { DeploymentService } from './deployment.service';
import { ModelRepository } from './model-repository';
import { SERVING_LOGGER, type ServingLogger } from './serving.logger';

/** How long RepositoryModelLoad waits for its deployment to be applied here. */
export const LOAD_TIMEOUT_MS = 120_000;

/** What a load request may say (from its parameters, or the keys of its `config` JSON). */
export interface LoadRequest {
  version?: number;
  artifactUri?: string;
  strategy?: 'full' | 'canary';
  canaryShare?: number;
}

/** One row of the repository index (Triton's RepositoryIndexResponse.ModelIndex). */
export interface IndexEntry {
  name: string;
  version: string;
  state: 'READY' | 'UNAVAILABLE';
  reason: string;
}

/**
 * Triton's model repository extension over what this server has served: the index lists every
 * version loaded now or before; a load is a deployment (deployment.requested published on the
 * bus, answered once this process has applied it, so every replica and worker loads it and the
 * registry and loop see it as any deployment); an unload drains the model's versions in this
 * process and takes it out of routing.
 */
@Injectable()
export class RepositoryControl {
  constructor(
    @Inject(SERVING_LOGGER) private readonly log: ServingLogger,
    private readonly repository: ModelRepository,
    private readonly deployments: DeploymentService,
    private readonly bus: EventBus,
  ) {}

  index(readyOnly = false): IndexEntry[] {
    return this.repository
      .catalog()
      .filter((v) => !readyOnly || v.loaded)
      .map((v) => ({ name: v.name, version: String(v.version), state: v.loaded ? 'READY' : 'UNAVAILABLE', reason: v.loaded ? '' : 'unloaded' }));
  }

  /**
   * Deploys `version` from `artifactUri`; without them, the newest version this server knows of
   * the model again (after an unload). A model already loaded with nothing asked is left as it is.
   */
  async load(model: string, request: LoadRequest): Promise<void> {
    if (!model) throw InvalidInputError.of([{ field: 'model_name', message: 'is required' }]);
    const known = this.repository.catalog().filter((v) => v.name === model);
    if (request.version === undefined && request.artifactUri === undefined && this.repository.versions(model).length > 0) {
      this.log.log(`load of model '${model}': already loaded (versions ${this.repository.versions(model).join(', ')}), nothing to do`);
      return;
    }
    const version = request.version ?? known.at(-1)?.version;
    if (version === undefined) {
      throw new NotFoundError(
        `model '${model}' is not in this server's repository; name the version to deploy and its artifact: parameters version and artifact_uri, or config '{"version": 1, "artifact_uri": "file:///models/${model}.onnx"}'`,
      );
    }
    const artifactUri = request.artifactUri ?? known.find((v) => v.version === version)?.path;
    if (artifactUri === undefined) {
      throw InvalidInputError.of([{ field: 'artifact_uri', message: `is required: model '${model}' version ${version} was never loaded here` }]);
    }
    const event = createEvent('deployment.requested', {
      source: 'serving',
      subject: model,
      data: { model, version, artifactUri, strategy: request.strategy ?? 'full', canaryShare: request.canaryShare ?? 0.1 },
    });
    const applied = this.deployments.applied(model, version, LOAD_TIMEOUT_MS);
    this.log.log(`load of model '${model}' version ${version}: deployment.requested ${event.id} (${event.data.strategy}) from ${artifactUri}`);
    await this.bus.publish(event);
    const outcome = await applied.catch((error: Error) => {
      throw new UnavailableError(error.message);
    });
    if (outcome.status !== 'serving') throw new FailedPreconditionError(`load of model '${model}' version ${version} ${outcome.status}: ${outcome.error}`);
  }

  /** Drains and unloads every version of the model here (in-flight requests finish first). */
  unload(model: string): void {
    if (!model) throw InvalidInputError.of([{ field: 'model_name', message: 'is required' }]);
    if (!this.repository.catalog().some((v) => v.name === model)) throw new NotFoundError(`model '${model}' is not in this server's repository`);
    const versions = this.repository.versions(model);
    this.repository.unloadModel(model);
    this.log.log(
      versions.length > 0 ? `unloaded model '${model}' (versions ${versions.join(', ')}), in-flight requests drain first` : `unload of model '${model}': not loaded, nothing to do`,
    );
  }
}

/**
 * A load request from its parameters (plain values: REST's JSON, or gRPC's
 * ModelRepositoryParameter already unwrapped): `version`, `artifact_uri`, `strategy`,
 * `canary_share`, each also accepted as a key of the `config` JSON string (what
 * tritonclient's `load_model(name, config=...)` sends). Other keys are refused by name.
 */
export function loadRequestOf(parameters: Record<string, unknown>): LoadRequest {
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(parameters)) {
    if (key !== 'config') {
      fields[key] = value;
      continue;
    }
    let config: unknown;
    try {
      config = JSON.parse(String(value));
    } catch (error) {
      throw InvalidInputError.of([{ field: 'config', message: `is not JSON (${(error as Error).message})` }]);
    }
    if (typeof config !== 'object' || config === null || Array.isArray(config)) {
      throw InvalidInputError.of([{ field: 'config', message: 'expected a JSON object such as {"version": 2, "artifact_uri": "file:///models/m.onnx"}' }]);
    }
    Object.assign(fields, config);
  }
  const request: LoadRequest = {};
  for (const [key, value] of Object.entries(fields)) {
    if (key === 'version') {
      const version = Number(value);
      if (!Number.isSafeInteger(version) || version < 1) throw InvalidInputError.of([{ field: 'version', message: `expected a version number >= 1, got ${JSON.stringify(value)}` }]);
      request.version = version;
    } else if (key === 'artifact_uri') {
      if (typeof value !== 'string' || value === '') throw InvalidInputError.of([{ field: 'artifact_uri', message: 'expected a path or file:// URI' }]);
      request.artifactUri = value;
    } else if (key === 'strategy') {
      if (value !== 'full' && value !== 'canary') throw InvalidInputError.of([{ field: 'strategy', message: `expected 'full' or 'canary', got ${JSON.stringify(value)}` }]);
      request.strategy = value;
    } else if (key === 'canary_share') {
      const share = Number(value);
      if (!(share >= 0 && share <= 1)) throw InvalidInputError.of([{ field: 'canary_share', message: `expected a share between 0 and 1, got ${JSON.stringify(value)}` }]);
      request.canaryShare = share;
    } else {
      throw InvalidInputError.of([{ field: key, message: 'is not a load parameter (expected version, artifact_uri, strategy, canary_share or config)' }]);
    }
  }
  if (request.artifactUri !== undefined && request.version === undefined) {
    throw InvalidInputError.of([{ field: 'version', message: 'is required with artifact_uri' }]);
  }
  return request;
}

import { readFile } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { EventBus } from '@mlops/bus';
import { InvalidInputError } from '@mlops/errors';
import { ContentStore, filePathOf } from '../artifacts/artifact-store';
import { openModel, signatureDifferences, type Signature } from '../onnx/onnx-model';
import { modelRegistered } from '../registry.events';
import { REGISTRY_SETTINGS, type RegistrySettings } from '../registry.settings';
import type { ModelVersionRow } from '../store/entities';
import { ModelVersionRepository } from '../store/model-version.repository';
import { RegistryTransactions, type RegistryTx } from '../store/registry.transactions';
import { dedupe, type NewVersion } from './catalog.types';
import { ModelCatalog } from './model-catalog';
import { validName } from './names';

/** An admitted model: stored, with its onnxruntime session (the caller releases it) and signature. */
export type AdmittedModel = Awaited<ReturnType<typeof openModel>> & { hash: string; path: string };

/**
 * Adds versions: admits ONNX bytes (onnxruntime loads them, the declared signature matches),
 * stores them content-addressed and numbers the version (the one writer of registry_model_versions).
 */
@Injectable()
export class VersionRegistrar {
  constructor(
    private readonly catalog: ModelCatalog,
    private readonly versions: ModelVersionRepository,
    private readonly transactions: RegistryTransactions,
    private readonly store: ContentStore,
    private readonly bus: EventBus,
    @Inject(REGISTRY_SETTINGS) private readonly settings: RegistrySettings,
  ) {}

  /**
   * Checks the bytes are an ONNX model onnxruntime loads and, if a signature was declared,
   * that the model's inputs/outputs match it; only then stores them. Throws InvalidInputError
   * (400) otherwise, with nothing written.
   */
  async admit(bytes: Uint8Array, declared?: Signature): Promise<AdmittedModel> {
    if (bytes.byteLength === 0) throw new InvalidInputError('the model is empty: send the ONNX bytes as the request body');
    const { session, signature } = await openModel(bytes);
    if (declared) {
      const problems = signatureDifferences(declared, signature);
      if (problems.length) {
        await session.release().catch(() => undefined);
        throw new InvalidInputError(`the model does not match the declared signature: ${problems.join('; ')}`);
      }
    }
    const stored = await this.store.put(bytes);
    return { session, signature, ...stored };
  }

  /** Inserts the model's next version (and the model if new) in `tx`. */
  async insertVersion(
    tx: RegistryTx,
    input: Omit<NewVersion, 'bytes' | 'declared'>,
    artifact: { hash: string; path: string; signature: Signature; servable?: boolean },
    origin: { sourceEventId?: string; correlationId?: string } = {},
  ): Promise<ModelVersionRow> {
    const name = validName(input.name);
    const now = Date.now();
    await this.catalog.touchForNewVersion(tx, name, now);
    const latest = await this.versions.latest(name, tx);
    const row: ModelVersionRow = {
      name,
      version: (latest?.version ?? 0) + 1,
      status: 'READY',
      description: input.description ?? '',
      source: input.source,
      runId: input.runId ?? null,
      datasetId: input.datasetId ?? null,
      datasetHash: input.datasetHash ?? null,
      codeVersion: input.codeVersion ?? null,
      artifactHash: artifact.hash,
      artifactUri: artifact.path,
      signature: JSON.stringify(artifact.signature),
      metrics: JSON.stringify(input.metrics ?? {}),
      sourceEventId: origin.sourceEventId ?? null,
      correlationId: origin.correlationId ?? null,
      creationTime: now,
      lastUpdatedTime: now,
      storageLocation: input.storageLocation ?? null,
      modelId: input.modelId ?? null,
      servable: artifact.servable ?? true,
      holdoutUri: input.holdoutUri ?? null,
    };
    await this.versions.insert(tx, row, input.tags?.length ? dedupe(input.tags) : []);
    return row;
  }

  /** Registers uploaded ONNX bytes as the next version (no gate: a manual registration). */
  async registerVersion(input: NewVersion) {
    validName(input.name);
    const artifact = await this.admit(input.bytes, input.declared);
    await artifact.session.release().catch(() => undefined);
    const row = await this.transactions.run((tx) => this.insertVersion(tx, input, artifact));
    await this.bus.publish(modelRegistered(row, { id: undefined, correlationId: undefined }));
    return this.catalog.versionJson(row);
  }

  /** MLflow's model-versions/create: `source` is a file path under one of REGISTRY_IMPORT_ROOTS. */
  async createVersionFromSource(input: Omit<NewVersion, 'bytes'>) {
    const path = resolve(filePathOf(input.source));
    const allowed = this.settings.artifacts.importRoots.some((root) => {
      const rel = relative(resolve(root), path);
      return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) && !rel.split(sep).includes('..');
    });
    if (!allowed) {
      throw new InvalidInputError(
        `source "${input.source}" is not under an import root (REGISTRY_IMPORT_ROOTS); use a runs:/<run_id>/<path>, models:/<model_id> or mlflow-artifacts:/ source, or upload the bytes to POST /models/${input.name}/versions`,
      );
    }
    const bytes = await readFile(path).catch(() => {
      throw new InvalidInputError(`source "${input.source}" cannot be read`);
    });
    return this.registerVersion({ ...input, bytes });
  }
}

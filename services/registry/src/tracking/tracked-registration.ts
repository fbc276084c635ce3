import { stat } from 'node:fs/promises';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { EventBus } from '@mlops/bus';
import type { AnyEvent } from '@mlops/contracts';
import { InvalidInputError } from '@mlops/errors';
import { ModelAliases } from '../aliases/model-aliases';
import { dedupe, type KeyValue } from '../catalog/catalog.types';
import { ModelCatalog } from '../catalog/model-catalog';
import { validName } from '../catalog/names';
import { SERVABLE_TAG } from '../catalog/servability';
import { VersionRegistrar, type AdmittedModel } from '../catalog/version-registrar';
import { QualityGate, type GateDecision } from '../gate/quality-gate';
import type { Signature } from '../onnx/onnx-model';
import { canaryDeploymentRequested, modelRegistered } from '../registry.events';
import { SERVICE } from '../registry.names';
import { REGISTRY_SETTINGS, type RegistrySettings } from '../registry.settings';
import type { ModelVersionRow } from '../store/entities';
import { RegistryTransactions } from '../store/registry.transactions';
import { directoryHash, readModelDirectory } from './model-directory';
import { ModelSources, type TrackedSource } from './model-source';
import type { TrackedRun } from './tracking-client';

/** Gate attempts when the champion keeps changing while a candidate is scored. */
const MAX_GATE_ATTEMPTS = 5;
/** A registered model version's own URI: `models:/<name>/<version>` or `models:/<name>@<alias>`. */
const REGISTERED = /^models:\/([^/@]+)(?:\/([^/]+)|@(.+))$/;

export interface TrackedVersionRequest {
  name: string;
  source: string;
  runId?: string;
  modelId?: string;
  description?: string;
  tags?: KeyValue[];
  declared?: Signature;
  metrics?: Record<string, number>;
}

/** The champion moved between scoring a candidate and recording the decision (scored again). */
class ChampionChanged extends Error {}

/** A run's lineage as the trainer records it (tags `mlops.*`), else from its dataset inputs. */
function lineageOf(run: TrackedRun | undefined) {
  const tags = new Map((run?.data?.tags ?? []).map((t) => [t.key, t.value]));
  const dataset = run?.inputs?.dataset_inputs?.[0]?.dataset;
  return {
    datasetId: tags.get('mlops.dataset_id') ?? dataset?.name,
    datasetHash: tags.get('mlops.dataset_hash') ?? dataset?.digest,
    codeVersion: tags.get('mlflow.source.git.commit'),
    metrics: Object.fromEntries((run?.data?.metrics ?? []).map((m) => [m.key, Number(m.value)])),
  };
}

/**
 * model-versions/create from the tracking server (`runs:/`, `models:/`, `mlflow-artifacts:/`):
 * an ONNX model is admitted into the content-addressed store (signature checked) and gated
 * when its run reports the gate metric, like a trained model; anything else is accepted as
 * MLflow accepts it and marked not servable.
 */
@Injectable()
export class TrackedRegistration {
  private readonly log = new Logger(SERVICE);

  constructor(
    private readonly sources: ModelSources,
    private readonly registrar: VersionRegistrar,
    private readonly catalog: ModelCatalog,
    private readonly gate: QualityGate,
    private readonly aliases: ModelAliases,
    private readonly transactions: RegistryTransactions,
    private readonly bus: EventBus,
    @Inject(REGISTRY_SETTINGS) private readonly settings: RegistrySettings,
  ) {}

  async create(request: TrackedVersionRequest) {
    const name = validName(request.name);
    const resolved = await this.sources.resolve(await this.underlying(request.source), { runId: request.runId, modelId: request.modelId });
    const lineage = lineageOf(resolved.run);
    const input = {
      name,
      source: request.source,
      runId: resolved.runId,
      modelId: resolved.modelId,
      storageLocation: resolved.storageLocation,
      datasetId: lineage.datasetId,
      datasetHash: lineage.datasetHash,
      codeVersion: lineage.codeVersion,
      metrics: { ...lineage.metrics, ...request.metrics },
      description: request.description,
      tags: request.tags,
    };
    const directory = readModelDirectory(resolved.files);
    const events: AnyEvent[] = [];
    let row: ModelVersionRow;
    if (!directory.onnx) {
      row = await this.insertNotServable(input, resolved);
      events.push(modelRegistered(row, {}));
      const flavors = directory.flavors.length ? `flavors ${directory.flavors.join(', ')}` : 'no MLmodel flavors';
      this.log.log(`model '${name}' version ${row.version} registered from ${request.source}: no ONNX model (${flavors}), not servable`);
    } else {
      const artifact = await this.registrar.admit(directory.onnx.bytes, request.declared);
      try {
        const { version, decision } = await this.insertServable(input, artifact);
        row = version;
        events.push(modelRegistered(row, {}, decision ? { name, version: row.version, ...decision } : null));
        if (decision?.passed) events.push(canaryDeploymentRequested(row, {}, this.settings.deployment.canaryShare));
        this.log.log(`model '${name}' version ${row.version} registered from ${request.source} (${directory.onnx.file})${decision ? `: gate ${decision.passed ? 'pass' : 'reject'} (${decision.reason})` : ''}`);
      } finally {
        await artifact.session.release().catch(() => undefined);
      }
    }
    await this.bus.publish(events);
    return this.catalog.versionJson(row);
  }

  /** `models:/<name>/<version>` or `@alias` of this registry: that version's download location. */
  private async underlying(source: string): Promise<string> {
    const registered = REGISTERED.exec(source);
    if (!registered) return source;
    const [, name, version, alias] = registered;
    const row = alias ? await this.aliases.getByAlias(name, alias) : await this.catalog.getVersion(name, version);
    const location = row.storage_location;
    if (!location) throw new InvalidInputError(`source "${source}": version ${row.version} of '${name}' has no tracking location to copy from`);
    return location;
  }

  private insertNotServable(input: Parameters<VersionRegistrar['insertVersion']>[1], resolved: TrackedSource): Promise<ModelVersionRow> {
    const artifact = { hash: directoryHash(resolved.files), path: resolved.storageLocation, signature: { inputs: [], outputs: [] }, servable: false };
    const tags = dedupe([...(input.tags ?? []), { key: SERVABLE_TAG, value: 'false' }]);
    return this.transactions.run((tx) => this.registrar.insertVersion(tx, { ...input, tags }, artifact));
  }

  /**
   * Inserts an admitted ONNX version; when its run reports the gate metric (or a holdout is
   * configured) the gate decides as for training.completed and a pass sets `challenger`.
   */
  private async insertServable(
    input: Parameters<VersionRegistrar['insertVersion']>[1] & { metrics: Record<string, number> },
    artifact: AdmittedModel,
  ): Promise<{ version: ModelVersionRow; decision?: GateDecision }> {
    const gated = this.settings.gate.holdoutPath !== undefined || input.metrics[this.settings.gate.metric] !== undefined;
    if (!gated) return { version: await this.transactions.run((tx) => this.registrar.insertVersion(tx, input, artifact)) };
    for (let attempt = 1; ; attempt++) {
      // As for training.completed: score outside the transaction, then check the champion it
      // was scored against is still the champion (its row locked on Postgres), else score again.
      const champion = await this.aliases.champion(input.name);
      const modelBytes = (await stat(artifact.path)).size;
      const decision = await this.gate.evaluate({ model: input.name, session: artifact.session, metrics: input.metrics, modelBytes }, champion);
      try {
        const version = await this.transactions.run(async (tx) => {
          const now = await this.aliases.championForUpdate(tx, input.name);
          if ((now?.version ?? null) !== (champion?.version ?? null)) throw new ChampionChanged();
          const row = await this.registrar.insertVersion(tx, input, artifact);
          await this.gate.record(tx, row, decision);
          if (decision.passed) await this.aliases.setChallenger(tx, row.name, row.version);
          return row;
        });
        return { version, decision };
      } catch (error) {
        if (!(error instanceof ChampionChanged) || attempt >= MAX_GATE_ATTEMPTS) throw error;
      }
    }
  }
}

import { readFile } from 'node:fs/promises';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { PermanentError } from '@mlops/bus';
import type { AnyEvent, EventEnvelope } from '@mlops/contracts';
import { DomainError } from '@mlops/errors';
import type { ApplyOnceResult } from '@mlops/persistence';
import { ModelAliases } from '../aliases/model-aliases';
import { ContentStore, filePathOf } from '../artifacts/artifact-store';
import { VersionRegistrar, type AdmittedModel } from '../catalog/version-registrar';
import { QualityGate } from '../gate/quality-gate';
import { parseSignature } from '../onnx/onnx-model';
import { canaryDeploymentRequested, modelRegistered, validationOfDecision } from '../registry.events';
import { SERVICE } from '../registry.names';
import { REGISTRY_SETTINGS, type RegistrySettings } from '../registry.settings';
import type { ModelVersionRow } from '../store/entities';
import { ModelVersionRepository } from '../store/model-version.repository';
import { RegistryTransactions } from '../store/registry.transactions';
import { ModelSources } from '../tracking/model-source';

/** The applyOnce consumer name of training.completed (processed event ids). */
const CONSUMER = 'registry.training-completed';
/** Gate attempts when the champion keeps changing while a candidate is scored. */
const MAX_GATE_ATTEMPTS = 5;

/** The champion moved between scoring a candidate and recording the decision (scored again). */
class ChampionChanged extends Error {
  constructor(scoredAgainst: number | null, now: number | null) {
    super(`the champion changed from ${scoredAgainst ?? 'none'} to ${now ?? 'none'} while the candidate was scored`);
    this.name = 'ChampionChanged';
  }
}

/** training.completed: register the trained model, gate it against the champion, and say what follows. */
@Injectable()
export class TrainingRegistration {
  constructor(
    private readonly registrar: VersionRegistrar,
    private readonly gate: QualityGate,
    private readonly aliases: ModelAliases,
    private readonly versions: ModelVersionRepository,
    private readonly transactions: RegistryTransactions,
    private readonly sources: ModelSources,
    private readonly store: ContentStore,
    @Inject(REGISTRY_SETTINGS) private readonly settings: RegistrySettings,
  ) {}

  private readonly log = new Logger(SERVICE);

  /**
   * Registers the trained model, runs the quality gate against the champion and returns the
   * follow-up events (model.registered, plus deployment.requested on pass). Applied once per
   * event id; a redelivery returns the same events (same ids) without registering again.
   */
  async onTrainingCompleted(event: EventEnvelope<'training.completed'>): Promise<AnyEvent[]> {
    const existing = await this.versions.bySourceEvent(event.id);
    if (existing) return this.followUps(existing, event);
    const data = event.data;
    const path = filePathOf(data.artifactUri);
    const bytes = await readFile(path).catch((error: Error) => {
      throw new Error(`cannot read the model at ${data.artifactUri}: ${error.message}`);
    });
    const location = await this.trackingLocation(data.runId);
    const holdoutUri = await this.storeHoldout(data.holdoutUri);
    let artifact: AdmittedModel;
    try {
      artifact = await this.registrar.admit(bytes, data.signature ? parseSignature(data.signature, 'data.signature') : undefined);
    } catch (error) {
      // A corrupt model or a signature mismatch will not heal by retrying.
      if (error instanceof DomainError) throw new PermanentError(`training.completed ${event.id}: ${error.message}`, { cause: error });
      throw error;
    }
    try {
      let outcome: ApplyOnceResult<ModelVersionRow> | undefined;
      for (let attempt = 1; !outcome; attempt++) {
        // Scoring runs ONNX sessions, so it stays outside the transaction; the transaction
        // then checks the champion it scored against is still the champion, else scores again.
        const champion = await this.aliases.champion(data.model);
        const decision = await this.gate.evaluate({ model: data.model, session: artifact.session, metrics: data.metrics, modelBytes: bytes.byteLength }, champion);
        try {
          outcome = await this.transactions.applyOnce(CONSUMER, event.id, async (tx) => {
            const now = await this.aliases.championForUpdate(tx, data.model);
            if ((now?.version ?? null) !== (champion?.version ?? null)) throw new ChampionChanged(champion?.version ?? null, now?.version ?? null);
            const row = await this.registrar.insertVersion(
              tx,
              {
                name: data.model,
                source: data.artifactUri,
                runId: data.runId,
                datasetId: data.datasetId,
                datasetHash: data.datasetHash,
                codeVersion: data.codeVersion,
                metrics: data.metrics,
                tags: [{ key: 'mlops.jobId', value: data.jobId }],
                ...location,
                ...(holdoutUri ? { holdoutUri } : {}),
              },
              artifact,
              { sourceEventId: event.id, correlationId: event.correlationId },
            );
            await this.gate.record(tx, row, decision);
            if (decision.passed) await this.aliases.setChallenger(tx, row.name, row.version);
            return row;
          });
        } catch (error) {
          if (!(error instanceof ChampionChanged) || attempt >= MAX_GATE_ATTEMPTS) throw error;
        }
      }
      const row = outcome.applied ? outcome.result : await this.versions.bySourceEventOrFail(event.id);
      return this.followUps(row, event);
    } finally {
      await artifact.session.release().catch(() => undefined);
    }
  }

  /**
   * Where MLflow clients download the trained model: the run's logged model on tracking, when
   * REGISTRY_TRACKING_URI is set and the trainer logged one. Best effort: without it the version
   * registers as before (its download URI is its source), and the reason is logged.
   */
  private async trackingLocation(runId: string): Promise<{ storageLocation?: string; modelId?: string }> {
    try {
      return (await this.sources.loggedModelOfRun(runId)) ?? {};
    } catch (error) {
      this.log.warn(`run ${runId}: no download location on tracking (${(error as Error).message}); the version's download URI is its source`);
      return {};
    }
  }

  /**
   * The holdout rows training wrote beside the model, copied into the store beside the model's
   * bytes (serving reads them from there, as it reads the model). Best effort: without them a
   * deployment under a latency bound is rejected by serving, which says so.
   */
  private async storeHoldout(uri: string | undefined): Promise<string | undefined> {
    if (!uri) return undefined;
    try {
      return (await this.store.put(await readFile(filePathOf(uri)), 'npy')).path;
    } catch (error) {
      this.log.warn(`holdout rows at ${uri} not stored (${(error as Error).message}); serving rejects a deployment of this version under a latency bound`);
      return undefined;
    }
  }

  private async followUps(row: ModelVersionRow, cause: EventEnvelope): Promise<AnyEvent[]> {
    const decision = await this.gate.decisionOf(row);
    const events: AnyEvent[] = [modelRegistered(row, cause, decision)];
    if (decision?.passed) events.push(canaryDeploymentRequested(row, cause, this.settings.deployment.canaryShare, validationOfDecision(row, decision)));
    return events;
  }
}

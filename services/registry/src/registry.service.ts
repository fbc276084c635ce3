import { Injectable } from '@nestjs/common';
import type { EventEnvelope } from '@mlops/contracts';
import { ModelAliases } from './aliases/model-aliases';
import { ContentStore } from './artifacts/artifact-store';
import type { KeyValue, NewVersion } from './catalog/catalog.types';
import { Lineage } from './catalog/lineage';
import { ModelCatalog } from './catalog/model-catalog';
import { VersionRegistrar } from './catalog/version-registrar';
import { QualityGate } from './gate/quality-gate';
import { isTrackedSource } from './tracking/model-source';
import { TrackedRegistration } from './tracking/tracked-registration';
import { TrainingRegistration } from './training/training-registration';

/**
 * The registry for in-process callers (startRegistry's `service`: the embedded platform and
 * tests), with the API it had before the split. It owns nothing: each method is the use
 * case's that owns the state.
 */
@Injectable()
export class RegistryService {
  constructor(
    private readonly catalog: ModelCatalog,
    private readonly registrar: VersionRegistrar,
    private readonly aliases: ModelAliases,
    private readonly gate: QualityGate,
    private readonly lineages: Lineage,
    private readonly training: TrainingRegistration,
    private readonly tracked: TrackedRegistration,
    /** The content-addressed artifact store. */
    readonly store: ContentStore,
  ) {}

  createRegisteredModel(name: unknown, description = '', tags: KeyValue[] = []) {
    return this.catalog.createRegisteredModel(name, description, tags);
  }

  getRegisteredModel(name: unknown) {
    return this.catalog.getRegisteredModel(name);
  }

  searchRegisteredModels(filter?: string, maxResults?: number) {
    return this.catalog.searchRegisteredModels(filter, maxResults);
  }

  getVersion(name: unknown, version: unknown) {
    return this.catalog.getVersion(name, version);
  }

  searchVersions(filter?: string, maxResults?: number) {
    return this.catalog.searchVersions(filter, maxResults);
  }

  registerVersion(input: NewVersion) {
    return this.registrar.registerVersion(input);
  }

  /** A tracking source (`runs:/`, `models:/`, `mlflow-artifacts:/`) or a file under an import root. */
  createVersionFromSource(input: Omit<NewVersion, 'bytes'>) {
    return isTrackedSource(input.source) ? this.tracked.create(input) : this.registrar.createVersionFromSource(input);
  }

  setAlias(name: unknown, alias: unknown, version: unknown) {
    return this.aliases.setAlias(name, alias, version);
  }

  deleteAlias(name: unknown, alias: unknown) {
    return this.aliases.deleteAlias(name, alias);
  }

  getByAlias(name: unknown, alias: unknown) {
    return this.aliases.getByAlias(name, alias);
  }

  promote(name: unknown, version: unknown, reason?: string) {
    return this.aliases.promote(name, version, reason);
  }

  rollback(name: unknown, reason: unknown) {
    return this.aliases.rollback(name, reason);
  }

  gateDecision(name: unknown, version: unknown) {
    return this.gate.gateDecision(name, version);
  }

  onTrainingCompleted(event: EventEnvelope<'training.completed'>) {
    return this.training.onTrainingCompleted(event);
  }

  lineage(name: unknown, version: unknown) {
    return this.lineages.lineage(name, version);
  }

  datasetLineage(hash: unknown) {
    return this.lineages.datasetLineage(hash);
  }
}

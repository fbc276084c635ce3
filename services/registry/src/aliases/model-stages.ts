import { Injectable, Logger } from '@nestjs/common';
import { FailedPreconditionError, InvalidInputError } from '@mlops/errors';
import { ModelCatalog } from '../catalog/model-catalog';
import { CHAMPION, SERVICE } from '../registry.names';
import { AliasRepository } from '../store/alias.repository';
import { ModelVersionRepository } from '../store/model-version.repository';
import { ModelAliases } from './model-aliases';
import { assertServable } from '../catalog/servability';
import { PRODUCTION_ONLY_ALIAS, STAGE_ALIAS, STAGES, stageOf, validStage, type Stage } from './stages';

/**
 * MLflow's deprecated stages on the registry's aliases (see stages.ts): `Production` promotes
 * the version to `champion` (model.promoted; serving moves traffic to it), `Staging` sets
 * `challenger`, `Archived`/`None` take the version off `challenger`.
 */
@Injectable()
export class ModelStages {
  private readonly log = new Logger(SERVICE);

  constructor(
    private readonly catalog: ModelCatalog,
    private readonly aliases: ModelAliases,
    private readonly aliasRows: AliasRepository,
    private readonly versions: ModelVersionRepository,
  ) {}

  async transition(nameValue: unknown, versionValue: unknown, stageValue: unknown, archiveExisting: boolean) {
    const stage = validStage(stageValue);
    const row = await this.catalog.version(nameValue, versionValue);
    if (archiveExisting && stage !== 'Production' && stage !== 'Staging') {
      throw InvalidInputError.of([
        { field: 'archive_existing_versions', message: `archive_existing_versions can only be true for stage Production or Staging, not ${stage}` },
      ]);
    }
    const champion = await this.aliasRows.find(row.name, CHAMPION);
    if (stage !== 'Production' && champion?.version === row.version) {
      throw new FailedPreconditionError(
        `Model Version (name=${row.name}, version=${row.version}) is in Production (the champion, serving traffic): transition another version to Production or roll back (POST /models/${row.name}/rollback) first`,
      );
    }
    // A stage is an alias, so it holds one version: the previous one leaves it either way.
    if (stage === 'Production' && row.servable === false) {
      // MLflow's tutorials move any model to Production and load it back with pyfunc; serving
      // cannot run this one, so it becomes Production for MLflow clients only, while no
      // champion serves (replacing a serving champion with it would be a refused deployment).
      if (champion) assertServable(row);
      await this.aliasRows.set({ name: row.name, alias: PRODUCTION_ONLY_ALIAS, version: row.version });
      this.log.warn(
        `model '${row.name}' version ${row.version} is in stage Production for MLflow clients only: not deployed, it is not servable (no ONNX model; log an ONNX flavor to serve it)`,
      );
      return this.catalog.getVersion(row.name, row.version);
    }
    if (stage === 'Production') {
      await this.aliases.promote(row.name, row.version, 'transitioned to stage Production');
      await this.aliasRows.delete(row.name, PRODUCTION_ONLY_ALIAS);
    }
    else if (stage === 'Staging') await this.aliasRows.set({ name: row.name, alias: STAGE_ALIAS.Staging, version: row.version });
    else {
      await this.aliasRows.deleteAt(undefined, row.name, STAGE_ALIAS.Staging, row.version);
      await this.aliasRows.deleteAt(undefined, row.name, PRODUCTION_ONLY_ALIAS, row.version);
    }
    this.log.log(`model '${row.name}' version ${row.version} transitioned to stage ${stage}`);
    return this.catalog.getVersion(row.name, row.version);
  }

  /** The latest version in each stage asked for (every stage when none is given). */
  async latestVersions(nameValue: unknown, stagesValue: unknown) {
    const model = await this.catalog.model(nameValue);
    if (stagesValue !== undefined && stagesValue !== null && !Array.isArray(stagesValue)) {
      throw InvalidInputError.of([{ field: 'stages', message: 'expected a list of stages' }]);
    }
    const wanted = new Set<Stage>(((stagesValue as unknown[] | undefined) ?? []).map((s, i) => validStage(s, `stages[${i}]`)));
    const stages = wanted.size ? wanted : new Set<Stage>(STAGES);
    const aliases = await this.aliasRows.ofModel(model.name);
    const latest = new Map<Stage, number>();
    for (const row of await this.versions.ofModel(model.name)) {
      const stage = stageOf(aliases.filter((a) => a.version === row.version).map((a) => a.alias));
      if (stages.has(stage) && (latest.get(stage) ?? 0) < row.version) latest.set(stage, row.version);
    }
    const found = [...latest.values()].sort((a, b) => a - b);
    return { model_versions: await Promise.all(found.map((v) => this.catalog.getVersion(model.name, v))) };
  }
}

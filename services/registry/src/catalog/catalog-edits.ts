import { Injectable, Logger } from '@nestjs/common';
import { AlreadyExistsError, FailedPreconditionError, InvalidInputError, NotFoundError } from '@mlops/errors';
import { CHAMPION, SERVICE } from '../registry.names';
import { AliasRepository } from '../store/alias.repository';
import { GateDecisionRepository } from '../store/gate-decision.repository';
import { ModelVersionRepository } from '../store/model-version.repository';
import { RegisteredModelRepository } from '../store/registered-model.repository';
import { RegistryTransactions } from '../store/registry.transactions';
import { ModelCatalog } from './model-catalog';
import { validName } from './names';

/** MLflow's limits on tag keys and values. */
const MAX_KEY = 250;
const MAX_VALUE = 5000;

function tagKey(key: unknown): string {
  if (typeof key !== 'string' || !key || key.length > MAX_KEY) {
    throw InvalidInputError.of([{ field: 'key', message: `Invalid value ${JSON.stringify(key)} for parameter 'key' supplied: expected 1-${MAX_KEY} characters` }]);
  }
  return key;
}

function tagValue(value: unknown): string {
  if (typeof value !== 'string' || value.length > MAX_VALUE) {
    throw InvalidInputError.of([{ field: 'value', message: `Invalid value for parameter 'value' supplied: expected a string of at most ${MAX_VALUE} characters` }]);
  }
  return value;
}

/**
 * Changes to registered models and versions beyond creating them (MLflow's rename, update,
 * delete and tag routes), each in one transaction over every table that holds the model.
 */
@Injectable()
export class CatalogEdits {
  private readonly log = new Logger(SERVICE);

  constructor(
    private readonly catalog: ModelCatalog,
    private readonly models: RegisteredModelRepository,
    private readonly versions: ModelVersionRepository,
    private readonly aliases: AliasRepository,
    private readonly decisions: GateDecisionRepository,
    private readonly transactions: RegistryTransactions,
  ) {}

  async renameRegisteredModel(nameValue: unknown, newNameValue: unknown) {
    const to = validName(newNameValue);
    const from = await this.transactions.run(async (tx) => {
      const model = await this.catalog.model(nameValue, tx);
      if (model.name === to) return model.name;
      if (await this.models.exists(tx, to)) throw new AlreadyExistsError(`Registered Model (name=${to}) already exists.`);
      await this.models.rename(tx, model.name, to, Date.now());
      await this.versions.rename(tx, model.name, to);
      await this.aliases.rename(tx, model.name, to);
      await this.decisions.rename(tx, model.name, to);
      return model.name;
    });
    this.log.log(`model '${from}' renamed to '${to}'`);
    return this.catalog.getRegisteredModel(to);
  }

  async updateRegisteredModel(nameValue: unknown, description: string) {
    const model = await this.catalog.model(nameValue);
    await this.transactions.run((tx) => this.models.update(tx, model.name, { description, lastUpdatedTime: Date.now() }));
    return this.catalog.getRegisteredModel(model.name);
  }

  /** Deletes the model with its versions, tags, aliases, gate decisions and champion history. */
  async deleteRegisteredModel(nameValue: unknown): Promise<void> {
    const name = await this.transactions.run(async (tx) => {
      const model = await this.catalog.model(nameValue, tx);
      await this.decisions.delete(tx, model.name);
      await this.aliases.deleteOf(tx, model.name);
      await this.versions.delete(tx, model.name);
      await this.models.delete(tx, model.name);
      return model.name;
    });
    this.log.log(`model '${name}' deleted with its versions`);
  }

  async setModelTag(nameValue: unknown, key: unknown, value: unknown): Promise<void> {
    const model = await this.catalog.model(nameValue);
    await this.transactions.run((tx) => this.models.setTag(tx, { name: model.name, key: tagKey(key), value: tagValue(value) }));
  }

  async deleteModelTag(nameValue: unknown, key: unknown): Promise<void> {
    const model = await this.catalog.model(nameValue);
    const deleted = await this.transactions.run((tx) => this.models.deleteTag(tx, model.name, tagKey(key)));
    if (!deleted) throw new NotFoundError(`No tag with name: ${String(key)} in model ${model.name}.`);
  }

  async updateModelVersion(nameValue: unknown, versionValue: unknown, description: string) {
    const row = await this.catalog.version(nameValue, versionValue);
    await this.transactions.run((tx) => this.versions.update(tx, row.name, row.version, { description, lastUpdatedTime: Date.now() }));
    return this.catalog.getVersion(row.name, row.version);
  }

  /** Deletes a version with its tags, aliases and gate decision; the serving champion cannot be deleted. */
  async deleteModelVersion(nameValue: unknown, versionValue: unknown): Promise<void> {
    const row = await this.transactions.run(async (tx) => {
      const version = await this.catalog.version(nameValue, versionValue, tx);
      const champion = await this.aliases.find(version.name, CHAMPION, tx);
      if (champion?.version === version.version) {
        throw new FailedPreconditionError(
          `Model Version (name=${version.name}, version=${version.version}) is the champion (stage Production) and serves traffic: promote another version or roll back first`,
        );
      }
      await this.decisions.delete(tx, version.name, version.version);
      await this.aliases.deleteOf(tx, version.name, version.version);
      await this.versions.delete(tx, version.name, version.version);
      return version;
    });
    this.log.log(`model '${row.name}' version ${row.version} deleted`);
  }

  async setVersionTag(nameValue: unknown, versionValue: unknown, key: unknown, value: unknown): Promise<void> {
    const row = await this.catalog.version(nameValue, versionValue);
    await this.transactions.run((tx) => this.versions.setTag(tx, { name: row.name, version: row.version, key: tagKey(key), value: tagValue(value) }));
  }

  async deleteVersionTag(nameValue: unknown, versionValue: unknown, key: unknown): Promise<void> {
    const row = await this.catalog.version(nameValue, versionValue);
    const deleted = await this.transactions.run((tx) => this.versions.deleteTag(tx, row.name, row.version, tagKey(key)));
    if (!deleted) throw new NotFoundError(`No tag with name: ${String(key)} for model version ${row.name} ${row.version}.`);
  }
}

import { Injectable } from '@nestjs/common';
import { AlreadyExistsError, InvalidInputError, NotFoundError } from '@mlops/errors';
import type { Signature } from '../onnx/onnx-model';
import { AliasRepository } from '../store/alias.repository';
import type { ModelVersionRow, RegisteredModelRow } from '../store/entities';
import { ModelVersionRepository } from '../store/model-version.repository';
import { RegisteredModelRepository } from '../store/registered-model.repository';
import { RegistryTransactions, type RegistryTx } from '../store/registry.transactions';
import { dedupe, type KeyValue } from './catalog.types';
import { validName, validVersion } from './names';
import { orderBy } from './order-by';
import { matches, parseFilter, type FilterClause } from './search-filter';
import { stageOf } from '../aliases/stages';

/** A page of search results: offset-based, the token is the next offset in base64 JSON. */
function page<T>(rows: T[], maxResults: number, pageToken?: string): { hits: T[]; next?: string } {
  let offset = 0;
  if (pageToken) {
    try {
      offset = (JSON.parse(Buffer.from(pageToken, 'base64').toString('utf8')) as { offset: number }).offset;
    } catch {
      offset = NaN;
    }
    if (!Number.isSafeInteger(offset) || offset < 0) throw InvalidInputError.of([{ field: 'page_token', message: `invalid page_token ${JSON.stringify(pageToken)}` }]);
  }
  const hits = rows.slice(offset, offset + maxResults);
  const nextOffset = offset + hits.length;
  return { hits, next: nextOffset < rows.length ? Buffer.from(JSON.stringify({ offset: nextOffset })).toString('base64') : undefined };
}

/** Whether a row passes every clause; `value` reads an attribute, `tags` the row's tags. */
function passes(clauses: FilterClause[], value: (key: string) => string | null, tags: Map<string, string>): boolean {
  return clauses.every((c) => matches(c.kind === 'tag' ? (tags.get(c.key) ?? null) : value(c.key), c));
}

/**
 * Registered models and their versions as MLflow shows them: lookups, search, and creating
 * a model (the one owner of registry_models; versions are added by VersionRegistrar).
 */
@Injectable()
export class ModelCatalog {
  constructor(
    private readonly models: RegisteredModelRepository,
    private readonly versions: ModelVersionRepository,
    private readonly aliases: AliasRepository,
    private readonly transactions: RegistryTransactions,
  ) {}

  // ---- registered models ---------------------------------------------------------------

  async createRegisteredModel(nameValue: unknown, description = '', tags: KeyValue[] = []) {
    const name = validName(nameValue);
    await this.transactions.run(async (tx) => {
      if (await this.models.exists(tx, name)) throw new AlreadyExistsError(`Registered Model (name=${name}) already exists.`);
      const now = Date.now();
      await this.models.insert(tx, { name, description, creationTime: now, lastUpdatedTime: now }, dedupe(tags));
    });
    return this.getRegisteredModel(name);
  }

  /** A new version's model: registered with it if new, else its last update time moves. */
  async touchForNewVersion(tx: RegistryTx, name: string, now: number): Promise<void> {
    if (!(await this.models.exists(tx, name))) await this.models.insert(tx, { name, description: '', creationTime: now, lastUpdatedTime: now });
    else await this.models.touch(tx, name, now);
  }

  /** The model's row; NotFoundError when there is none. */
  async model(name: unknown, tx?: RegistryTx): Promise<RegisteredModelRow> {
    const row = await this.models.find(validName(name), tx);
    if (!row) throw new NotFoundError(`Registered Model with name=${String(name)} not found`);
    return row;
  }

  async getRegisteredModel(nameValue: unknown) {
    const row = await this.model(nameValue);
    const [tags, aliases, latest] = await Promise.all([this.models.tags(row.name), this.aliases.ofModel(row.name), this.versions.latest(row.name)]);
    return {
      name: row.name,
      creation_timestamp: row.creationTime,
      last_updated_timestamp: row.lastUpdatedTime,
      description: row.description,
      tags: tags.map((t) => ({ key: t.key, value: t.value })),
      aliases: aliases.map((a) => ({ alias: a.alias, version: String(a.version) })),
      latest_versions: latest ? [await this.versionJson(latest)] : [],
    };
  }

  async searchRegisteredModels(filter?: string, maxResults = 100, pageToken?: string, order?: readonly string[]) {
    const clauses = parseFilter(filter, ['name']);
    const compare = orderBy<RegisteredModelRow>(order, {
      name: (r) => r.name,
      creation_timestamp: (r) => r.creationTime,
      last_updated_timestamp: (r) => r.lastUpdatedTime,
      timestamp: (r) => r.lastUpdatedTime,
    });
    const rows = await this.models.all();
    const tags = await this.models.allTags();
    const found = rows.filter((r) => passes(clauses, () => r.name, new Map(tags.filter((t) => t.name === r.name).map((t) => [t.key, t.value]))));
    if (compare) found.sort(compare);
    const { hits, next } = page(found, maxResults, pageToken);
    return { registered_models: await Promise.all(hits.map((r) => this.getRegisteredModel(r.name))), ...(next ? { next_page_token: next } : {}) };
  }

  // ---- versions ------------------------------------------------------------------------

  /** The version's row; NotFoundError when there is none. */
  async version(name: unknown, version: unknown, tx?: RegistryTx): Promise<ModelVersionRow> {
    const row = await this.versions.find(validName(name), validVersion(version), tx);
    if (!row) throw new NotFoundError(`Model Version (name=${String(name)}, version=${String(version)}) not found`);
    return row;
  }

  async versionJson(row: ModelVersionRow) {
    const [tags, aliasRows] = await Promise.all([this.versions.tags(row.name, row.version), this.aliases.ofVersion(row.name, row.version)]);
    const aliases = aliasRows.map((a) => a.alias);
    return {
      name: row.name,
      version: String(row.version),
      creation_timestamp: row.creationTime,
      last_updated_timestamp: row.lastUpdatedTime,
      current_stage: stageOf(aliases),
      description: row.description,
      source: row.source,
      run_id: row.runId ?? '',
      status: row.status,
      tags: tags.map((t) => ({ key: t.key, value: t.value })),
      aliases,
      ...(row.modelId ? { model_id: row.modelId } : {}),
      // Where MLflow clients download the files (the tracking server's artifact proxy).
      storage_location: row.storageLocation ?? row.source,
      // Beyond MLflow's ModelVersion: what the gate, serving and lineage need.
      artifact_hash: row.artifactHash,
      artifact_uri: row.artifactUri,
      signature: JSON.parse(row.signature) as Signature,
      metrics: JSON.parse(row.metrics) as Record<string, number>,
      dataset_id: row.datasetId,
      dataset_hash: row.datasetHash,
      code_version: row.codeVersion,
      servable: row.servable,
    };
  }

  async getVersion(name: unknown, version: unknown) {
    return this.versionJson(await this.version(name, version));
  }

  async searchVersions(filter?: string, maxResults = 1000, pageToken?: string, order?: readonly string[]) {
    const clauses = parseFilter(filter, ['name', 'run_id', 'dataset_hash', 'version_number', 'source_path']);
    const compare = orderBy<ModelVersionRow>(order, {
      name: (r) => r.name,
      version_number: (r) => r.version,
      creation_timestamp: (r) => r.creationTime,
      last_updated_timestamp: (r) => r.lastUpdatedTime,
      timestamp: (r) => r.lastUpdatedTime,
    });
    const rows = await this.versions.all();
    const allTags = await this.versions.allTags();
    const attribute = (r: ModelVersionRow, key: string): string | null =>
      key === 'version_number' ? String(r.version) : key === 'source_path' ? r.source : key === 'run_id' ? r.runId : key === 'dataset_hash' ? r.datasetHash : r.name;
    const found = rows.filter((r) =>
      passes(clauses, (key) => attribute(r, key), new Map(allTags.filter((t) => t.name === r.name && t.version === r.version).map((t) => [t.key, t.value]))),
    );
    if (compare) found.sort(compare);
    const { hits, next } = page(found, maxResults, pageToken);
    return { model_versions: await Promise.all(hits.map((r) => this.versionJson(r))), ...(next ? { next_page_token: next } : {}) };
  }
}

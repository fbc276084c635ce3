import { Injectable } from '@nestjs/common';
import { AlreadyExistsError, DomainError, FailedPreconditionError, InvalidInputError, NotFoundError } from '@mlops/errors';
import type { KeyValue } from '../runs/run';
import { LIMITS, validateKey, validateValue } from '../runs/run-input';
import { decodeToken, encodeToken } from '../search/page-token';
import { stageFilter } from '../search/view-type';
import { ExperimentRepository } from '../store/experiment.repository';
import type { ExperimentRow } from '../store/entities';
import { parseExperimentId, type Experiment } from './experiment';

const NAME_FILTER = /^\s*(?:attributes\.)?name\s*(=|LIKE|ILIKE)\s*'([^']*)'\s*$/i;

/** MLflow experiments: create, get (by id or name), search, rename, tags, delete and restore. */
@Injectable()
export class ExperimentService {
  constructor(private readonly experiments: ExperimentRepository) {}

  /** Returns the new experiment's id. */
  async createExperiment(name: unknown, artifactLocation?: unknown, tags: KeyValue[] = []): Promise<string> {
    if (typeof name !== 'string' || !name.trim()) throw new InvalidInputError('experiment name must be a non-empty string');
    if (name.length > 256) throw new InvalidInputError('experiment name is longer than 256 characters');
    for (const tag of tags) {
      validateKey('tag', tag.key);
      validateValue('tag', tag.key, tag.value, LIMITS.tagValueLength);
    }
    const given = typeof artifactLocation === 'string' && artifactLocation ? artifactLocation : undefined;
    const now = Date.now();
    try {
      return await this.experiments.transaction(async (tx) => {
        if (await this.experiments.existsByName(name, tx)) throw new AlreadyExistsError(`experiment "${name}" already exists`);
        const id = await this.experiments.insert(tx, {
          name,
          artifactLocation: given ?? 'pending',
          lifecycleStage: 'active',
          creationTime: now,
          lastUpdateTime: now,
        });
        // The proxied scheme makes clients upload artifacts through this server.
        if (!given) await this.experiments.setArtifactLocation(tx, id, `mlflow-artifacts:/${id}`);
        if (tags.length) await this.experiments.insertTags(tx, id, tags);
        return String(id);
      });
    } catch (error) {
      if (error instanceof DomainError) throw error;
      // A concurrent create of the same name loses on the unique index.
      if (await this.experiments.existsByName(name)) throw new AlreadyExistsError(`experiment "${name}" already exists`);
      throw error;
    }
  }

  async getExperiment(id: unknown): Promise<Experiment> {
    const row = await this.experiments.findById(parseExperimentId(id));
    if (!row) throw new NotFoundError(`no experiment with id "${String(id)}"`);
    return this.withTags(row);
  }

  async getExperimentByName(name: unknown): Promise<Experiment> {
    if (typeof name !== 'string' || !name) throw new InvalidInputError('experiment_name is required');
    const row = await this.experiments.findByName(name);
    if (!row) throw new NotFoundError(`could not find experiment with name "${name}"`);
    return this.withTags(row);
  }

  /** A page of experiments by id; only `name = / LIKE / ILIKE '...'` filters. */
  async searchExperiments(options: {
    maxResults?: number;
    pageToken?: string;
    viewType?: unknown;
    filter?: string;
  }): Promise<{ experiments: Experiment[]; nextPageToken?: string }> {
    if (options.filter && options.filter.trim() && !NAME_FILTER.test(options.filter)) {
      throw new InvalidInputError(`experiment filters support only "name = '...'" and "name LIKE '...'", got "${options.filter}"`);
    }
    const max = Math.min(options.maxResults ?? 1000, LIMITS.maxSearchResults);
    const offset = decodeToken(options.pageToken);
    const rows = await this.experiments.list(stageFilter(options.viewType));
    let matching = rows;
    const match = options.filter ? NAME_FILTER.exec(options.filter) : null;
    if (match) {
      const op = match[1].toUpperCase();
      const pattern = new RegExp(`^${match[2].replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/%/g, '.*').replace(/_/g, '.')}$`, op === 'ILIKE' ? 'i' : '');
      matching = rows.filter((r) => (op === '=' ? r.name === match[2] : pattern.test(r.name)));
    }
    const experiments: Experiment[] = [];
    for (const row of matching.slice(offset, offset + max)) experiments.push(await this.withTags(row));
    return { experiments, ...(offset + max < matching.length ? { nextPageToken: encodeToken(offset + max) } : {}) };
  }

  async setExperimentLifecycle(id: unknown, stage: 'active' | 'deleted'): Promise<void> {
    const experimentId = parseExperimentId(id);
    if (experimentId === 0 && stage === 'deleted') throw new InvalidInputError('the default experiment 0 cannot be deleted');
    if (!(await this.experiments.setLifecycle(experimentId, stage, Date.now()))) throw new NotFoundError(`no experiment with id "${String(id)}"`);
  }

  /** experiments/update: a new unique name for an active experiment. */
  async renameExperiment(id: unknown, newName: unknown): Promise<void> {
    if (typeof newName !== 'string' || !newName.trim()) throw InvalidInputError.of([{ field: 'new_name', message: 'expected a non-empty experiment name' }]);
    if (newName.length > 256) throw InvalidInputError.of([{ field: 'new_name', message: 'longer than 256 characters' }]);
    const experimentId = parseExperimentId(id);
    try {
      await this.experiments.transaction(async (tx) => {
        const row = await this.experiments.findById(experimentId, tx);
        if (!row) throw new NotFoundError(`no experiment with id "${String(id)}"`);
        if (row.lifecycleStage !== 'active') throw new FailedPreconditionError(`cannot rename the deleted experiment "${row.name}"; restore it first`);
        if (row.name === newName) return;
        if (await this.experiments.existsByName(newName, tx)) throw new AlreadyExistsError(`experiment "${newName}" already exists`);
        await this.experiments.rename(tx, experimentId, newName, Date.now());
      });
    } catch (error) {
      if (error instanceof DomainError) throw error;
      // A concurrent rename or create of the same name loses on the unique index.
      if (await this.experiments.existsByName(newName)) throw new AlreadyExistsError(`experiment "${newName}" already exists`);
      throw error;
    }
  }

  /** experiments/set-experiment-tag: sets (or replaces) a tag of an active experiment. */
  async setExperimentTag(id: unknown, key: unknown, value: unknown): Promise<void> {
    const tag = { key: validateKey('tag', key), value: validateValue('tag', String(key), value ?? '', LIMITS.tagValueLength) };
    const row = await this.activeExperiment(id);
    await this.experiments.upsertTag(row.experimentId, tag);
  }

  async deleteExperimentTag(id: unknown, key: unknown): Promise<void> {
    const row = await this.activeExperiment(id);
    if (!(await this.experiments.deleteTag(row.experimentId, String(key)))) {
      throw new NotFoundError(`no tag with name: ${String(key)} in experiment with id ${row.experimentId}`);
    }
  }

  private async activeExperiment(id: unknown): Promise<ExperimentRow> {
    const row = await this.experiments.findById(parseExperimentId(id));
    if (!row) throw new NotFoundError(`no experiment with id "${String(id)}"`);
    if (row.lifecycleStage !== 'active') throw new FailedPreconditionError(`the experiment "${row.name}" must be active; it is ${row.lifecycleStage}`);
    return row;
  }

  private async withTags(row: ExperimentRow): Promise<Experiment> {
    return { ...row, tags: await this.experiments.tags(row.experimentId) };
  }
}

import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InvalidInputError, NotFoundError } from '@mlops/errors';
import { ArtifactStore, proxiedPath, type FileInfo } from '../artifacts/artifact-store';
import { parseExperimentId } from '../experiments/experiment';
import type { KeyValue } from '../runs/run';
import { dedupe, LIMITS, validateKey, validateValue } from '../runs/run-input';
import { decodeToken, encodeToken } from '../search/page-token';
import { parseFilter, parseIdentifier, type OrderBy } from '../search/search-filter';
import { ExperimentRepository } from '../store/experiment.repository';
import { LOGGED_MODEL_KEYS, LoggedModelRepository, type LoggedModelWithData } from '../store/logged-model.repository';
import type { LoggedModelRow } from '../store/model-entities';
import { RunRepository } from '../store/run.repository';
import type { LoggedModelStatus } from './logged-model-status';

const MODEL_NAME_FORBIDDEN = ['/', ':', '.', '%', '"', "'"];
const ADJECTIVES = ['amber', 'brisk', 'cosmic', 'dapper', 'eager', 'fluffy', 'golden', 'humble', 'jolly', 'keen'];
const NOUNS = ['lark', 'mole', 'newt', 'ocelot', 'pike', 'quail', 'robin', 'seal', 'trout', 'vole'];
const pick = (words: string[]) => words[Math.floor(Math.random() * words.length)];

/** One logged-models/search: experiments, MLflow's filter, order_by entries as the client sends them, paging. */
export interface LoggedModelSearch {
  experimentIds: unknown[];
  filter?: string;
  maxResults?: number;
  orderBy: { fieldName: string; ascending: boolean }[];
  pageToken?: string;
}

/**
 * MLflow 3 logged models: create (PENDING, artifacts under
 * `<experiment artifact location>/models/<model_id>/artifacts`), get, finalize, delete, params,
 * tags, search, and the listing of their proxied artifacts.
 */
@Injectable()
export class LoggedModelService {
  constructor(
    private readonly models: LoggedModelRepository,
    private readonly experiments: ExperimentRepository,
    private readonly runs: RunRepository,
    private readonly artifacts: ArtifactStore,
  ) {}

  async create(input: {
    experimentId: unknown;
    name?: string;
    modelType?: string;
    sourceRunId?: string;
    params: KeyValue[];
    tags: KeyValue[];
  }): Promise<LoggedModelWithData> {
    const experiment = await this.experiments.findById(parseExperimentId(input.experimentId));
    if (!experiment) throw new NotFoundError(`no experiment with id "${String(input.experimentId)}"`);
    if (experiment.lifecycleStage !== 'active') throw new InvalidInputError(`experiment "${experiment.name}" is deleted; restore it or use another one`);
    if (input.name !== undefined && (!input.name || MODEL_NAME_FORBIDDEN.some((c) => input.name!.includes(c)))) {
      throw InvalidInputError.of([{ field: 'name', message: `invalid model name ${JSON.stringify(input.name)}: it must be non-empty and may not contain ${MODEL_NAME_FORBIDDEN.join(' ')}` }]);
    }
    if (input.sourceRunId && !(await this.runs.find(input.sourceRunId))) {
      throw InvalidInputError.of([{ field: 'source_run_id', message: `run with id=${input.sourceRunId} not found` }]);
    }
    const params = this.checked('param', input.params, LIMITS.paramValueLength);
    const tags = this.checked('tag', input.tags, LIMITS.tagValueLength);
    const modelId = `m-${randomUUID().replace(/-/g, '')}`;
    const now = Date.now();
    const row: LoggedModelRow = {
      modelId,
      experimentId: experiment.experimentId,
      name: input.name ?? `${pick(ADJECTIVES)}-${pick(NOUNS)}-${Math.floor(Math.random() * 1000)}`,
      artifactLocation: `${experiment.artifactLocation.replace(/\/+$/, '')}/models/${modelId}/artifacts`,
      creationTimestampMs: now,
      lastUpdatedTimestampMs: now,
      status: 'PENDING',
      statusMessage: null,
      modelType: input.modelType || null,
      sourceRunId: input.sourceRunId || null,
      lifecycleStage: 'active',
    };
    await this.models.insert(row, params, tags);
    return this.get(modelId);
  }

  /** The model with its params and tags; NotFoundError when unknown (or deleted, unless allowDeleted). */
  async get(modelId: string, allowDeleted = false): Promise<LoggedModelWithData> {
    const [model] = await this.models.findWithData([modelId]);
    if (!model || (!allowDeleted && model.info.lifecycleStage === 'deleted')) throw new NotFoundError(`Logged model with ID '${modelId}' not found.`);
    return model;
  }

  async finalize(modelId: string, status: LoggedModelStatus): Promise<LoggedModelWithData> {
    await this.get(modelId);
    await this.models.update(modelId, { status, lastUpdatedTimestampMs: Date.now() });
    return this.get(modelId);
  }

  /** Soft delete, as MLflow: the model is gone from get and search. */
  async delete(modelId: string): Promise<void> {
    await this.get(modelId);
    await this.models.update(modelId, { lifecycleStage: 'deleted', lastUpdatedTimestampMs: Date.now() });
  }

  async logParams(modelId: string, params: KeyValue[]): Promise<void> {
    await this.get(modelId);
    await this.models.upsertParams(modelId, this.checked('param', params, LIMITS.paramValueLength));
  }

  async setTags(modelId: string, tags: KeyValue[]): Promise<void> {
    await this.get(modelId);
    await this.models.upsertTags(modelId, this.checked('tag', tags, LIMITS.tagValueLength));
  }

  async deleteTag(modelId: string, key: string): Promise<void> {
    await this.get(modelId);
    if (!(await this.models.deleteTag(modelId, key))) throw new NotFoundError(`No tag with key '${key}' found for model with ID '${modelId}'.`);
  }

  async search(input: LoggedModelSearch): Promise<{ models: LoggedModelWithData[]; nextPageToken?: string }> {
    const filter = parseFilter(input.filter, LOGGED_MODEL_KEYS);
    const orderBy = input.orderBy.map((o, i): OrderBy => {
      try {
        const { kind, key } = parseIdentifier(o.fieldName, LOGGED_MODEL_KEYS);
        return { kind, key, ascending: o.ascending };
      } catch (error) {
        throw InvalidInputError.of([{ field: `order_by[${i}].field_name`, message: (error as Error).message }]);
      }
    });
    const max = input.maxResults ?? 100;
    if (!Number.isInteger(max) || max < 1 || max > LIMITS.maxSearchResults) {
      throw InvalidInputError.of([{ field: 'max_results', message: `expected 1 to ${LIMITS.maxSearchResults}, got ${max}` }]);
    }
    const offset = decodeToken(input.pageToken);
    const experimentIds = input.experimentIds.map((id) => parseExperimentId(id));
    if (experimentIds.length === 0) throw InvalidInputError.of([{ field: 'experiment_ids', message: 'expected at least one experiment id' }]);
    const ids = await this.models.findIds({ experimentIds, filter, orderBy, limit: max + 1, offset });
    const more = ids.length > max;
    const models = await this.models.findWithData(more ? ids.slice(0, max) : ids);
    return { models, ...(more ? { nextPageToken: encodeToken(offset + max) } : {}) };
  }

  /** The entries directly under `path` of the model's artifacts; none when they are not proxied here. */
  async listArtifacts(modelId: string, path?: string): Promise<{ rootUri: string; files: FileInfo[] }> {
    const model = await this.get(modelId);
    const root = proxiedPath(model.info.artifactLocation);
    if (root === undefined) return { rootUri: model.info.artifactLocation, files: [] };
    const sub = path ? path.replace(/^\/+|\/+$/g, '') : '';
    if (sub) this.artifacts.locate(sub); // rejects traversal
    const files = await this.artifacts.list(sub ? `${root}/${sub}` : root);
    return { rootUri: model.info.artifactLocation, files: files.map((f) => ({ ...f, path: sub ? `${sub}/${f.path}` : f.path })) };
  }

  private checked(kind: 'param' | 'tag', items: KeyValue[], maxValue: number): KeyValue[] {
    for (const item of items) {
      validateKey(kind, item.key);
      item.value = validateValue(kind, item.key, item.value, maxValue);
    }
    return dedupe(items);
  }
}

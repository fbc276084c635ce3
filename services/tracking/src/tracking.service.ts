import { randomInt, randomUUID } from 'node:crypto';
import { In, type DataSource, type EntityManager } from 'typeorm';
import { v5 as uuidv5 } from 'uuid';
import type { EventBus } from '@mlops/bus';
import { createEvent } from '@mlops/contracts';
import { inTransaction } from '@mlops/persistence';
import { proxiedPath, type ArtifactStore, type FileInfo } from './artifacts/artifact-store';
import { AlreadyExistsError, DomainError, InvalidInputError, NotFoundError } from '@mlops/errors';
import { ATTRIBUTES, parseFilter, parseOrderBy, type Clause, type OrderBy } from './search/search-filter';
import { createRunLogStore } from './store/create-run-log-store';
import { RUN_NAME_TAG, type RunLogStore } from './store/run-log-store';
import {
  ExperimentEntity,
  ExperimentTagEntity,
  LatestMetricEntity,
  MetricEntity,
  ParamEntity,
  RunEntity,
  TagEntity,
  type ExperimentRow,
  type KeyValueRow,
  type LatestMetricRow,
  type RunRow,
} from './store/entities';

const SERVICE = 'tracking';
const EVENT_ID_NAMESPACE = '2d7c1f0a-5b8e-4c3d-9a61-7e2f4b9c8d15';

export const LIMITS = {
  metricsPerBatch: 1000,
  paramsPerBatch: 100,
  tagsPerBatch: 100,
  entitiesPerBatch: 1000,
  keyLength: 250,
  paramValueLength: 6000,
  tagValueLength: 8000,
  maxSearchResults: 50_000,
  defaultSearchResults: 1000,
};

export const RUN_STATUSES = ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
const TERMINAL: RunStatus[] = ['FINISHED', 'FAILED', 'KILLED'];

export interface MetricInput {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}
export interface KeyValue {
  key: string;
  value: string;
}

/** MLflow's JSON for a double: protobuf writes non-finite values as strings. */
const jsonDouble = (value: number): number | string =>
  Number.isFinite(value) ? value : Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';

const metricJson = (m: LatestMetricRow) => ({
  key: m.key,
  value: jsonDouble(m.isNan ? NaN : m.value),
  timestamp: m.timestamp,
  step: m.step,
});

const KEY_PATTERN = /^[\p{L}\p{N}_/.\- :]+$/u;

function validateKey(kind: string, key: unknown): string {
  if (typeof key !== 'string' || key.length === 0) throw new InvalidInputError(`${kind} key must be a non-empty string`);
  if (key.length > LIMITS.keyLength) throw new InvalidInputError(`${kind} key "${key.slice(0, 40)}..." is longer than ${LIMITS.keyLength} characters`);
  if (!KEY_PATTERN.test(key)) {
    throw new InvalidInputError(`invalid ${kind} name "${key}": names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colons (:) and slashes (/)`);
  }
  if (key.split('/').some((part) => part === '..' || part === '.') || key.startsWith('/')) {
    throw new InvalidInputError(`invalid ${kind} name "${key}": it may not be an absolute path or contain "." or ".." segments`);
  }
  return key;
}

function validateValue(kind: string, key: string, value: unknown, max: number): string {
  if (value === undefined || value === null) throw new InvalidInputError(`missing value for ${kind} "${key}"`);
  const text = String(value);
  if (text.length > max) throw new InvalidInputError(`${kind} "${key}" has a value of ${text.length} characters; the limit is ${max}`);
  return text;
}

const ADJECTIVES = ['bright', 'calm', 'clever', 'bold', 'gentle', 'quick', 'silent', 'sunny', 'brave', 'lucky', 'merry', 'wise'];
const NOUNS = ['owl', 'fox', 'hawk', 'lynx', 'otter', 'panda', 'whale', 'heron', 'crab', 'moth', 'wolf', 'finch'];
const randomRunName = () => `${ADJECTIVES[randomInt(ADJECTIVES.length)]}-${NOUNS[randomInt(NOUNS.length)]}-${randomInt(1000)}`;

interface PageToken {
  offset: number;
}
function decodeToken(token: string | undefined): number {
  if (!token) return 0;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as PageToken;
    if (Number.isInteger(parsed.offset) && parsed.offset >= 0) return parsed.offset;
  } catch {
    /* fall through */
  }
  throw new InvalidInputError(`invalid page_token "${token}"`);
}
const encodeToken = (offset: number) => Buffer.from(JSON.stringify({ offset } satisfies PageToken)).toString('base64url');

/** MLflow's tracking store: experiments, runs and what runs log, in the service's own tables. */
export class TrackingService {
  private readonly postgres: boolean;

  constructor(
    private readonly dataSource: DataSource,
    private readonly bus: EventBus,
    readonly artifacts: ArtifactStore,
    private readonly runLog: RunLogStore = createRunLogStore(dataSource),
  ) {
    this.postgres = dataSource.options.type === 'postgres';
  }

  /** `$1, $2` on Postgres, `?` on SQLite. */
  private placeholder(params: unknown[], value: unknown): string {
    params.push(value);
    return this.postgres ? `$${params.length}` : '?';
  }

  // ---- experiments -------------------------------------------------------------------

  experimentJson(row: ExperimentRow, tags: KeyValue[] = []) {
    return {
      experiment_id: String(row.experimentId),
      name: row.name,
      artifact_location: row.artifactLocation,
      lifecycle_stage: row.lifecycleStage,
      last_update_time: row.lastUpdateTime,
      creation_time: row.creationTime,
      tags,
    };
  }

  private parseExperimentId(id: unknown): number {
    const text = String(id ?? '');
    if (!/^\d{1,9}$/.test(text)) throw new NotFoundError(`no experiment with id "${text}"`);
    return Number(text);
  }

  async createExperiment(name: unknown, artifactLocation?: unknown, tags: KeyValue[] = []): Promise<string> {
    if (typeof name !== 'string' || !name.trim()) throw new InvalidInputError('experiment name must be a non-empty string');
    if (name.length > 256) throw new InvalidInputError('experiment name is longer than 256 characters');
    for (const tag of tags) {
      validateKey('tag', tag.key);
      validateValue('tag', tag.key, tag.value, LIMITS.tagValueLength);
    }
    const now = Date.now();
    try {
      return await inTransaction(this.dataSource, async (manager) => {
        if (await manager.exists(ExperimentEntity, { where: { name } })) {
          throw new AlreadyExistsError(`experiment "${name}" already exists`);
        }
        const result = await manager.insert(ExperimentEntity, {
          name,
          artifactLocation: typeof artifactLocation === 'string' && artifactLocation ? artifactLocation : 'pending',
          lifecycleStage: 'active',
          creationTime: now,
          lastUpdateTime: now,
        });
        const id = Number(result.identifiers[0].experimentId);
        if (!(typeof artifactLocation === 'string' && artifactLocation)) {
          // The proxied scheme makes clients upload artifacts through this server.
          await manager.update(ExperimentEntity, { experimentId: id }, { artifactLocation: `mlflow-artifacts:/${id}` });
        }
        if (tags.length) await manager.insert(ExperimentTagEntity, tags.map((t) => ({ experimentId: id, key: t.key, value: String(t.value) })));
        return String(id);
      });
    } catch (error) {
      if (error instanceof DomainError) throw error;
      // A concurrent create of the same name loses on the unique index.
      if (await this.dataSource.getRepository(ExperimentEntity).exists({ where: { name } })) {
        throw new AlreadyExistsError(`experiment "${name}" already exists`);
      }
      throw error;
    }
  }

  private async experimentTags(id: number): Promise<KeyValue[]> {
    const rows = await this.dataSource.getRepository(ExperimentTagEntity).find({ where: { experimentId: id }, order: { key: 'ASC' } });
    return rows.map((t) => ({ key: t.key, value: t.value }));
  }

  async getExperiment(id: unknown) {
    const experimentId = this.parseExperimentId(id);
    const row = await this.dataSource.getRepository(ExperimentEntity).findOne({ where: { experimentId } });
    if (!row) throw new NotFoundError(`no experiment with id "${String(id)}"`);
    return this.experimentJson(row, await this.experimentTags(experimentId));
  }

  async getExperimentByName(name: unknown) {
    if (typeof name !== 'string' || !name) throw new InvalidInputError('experiment_name is required');
    const row = await this.dataSource.getRepository(ExperimentEntity).findOne({ where: { name } });
    if (!row) throw new NotFoundError(`could not find experiment with name "${name}"`);
    return this.experimentJson(row, await this.experimentTags(row.experimentId));
  }

  async searchExperiments(options: { maxResults?: number; pageToken?: string; viewType?: unknown; filter?: string }) {
    if (options.filter && options.filter.trim()) {
      const match = /^\s*(?:attributes\.)?name\s*(=|LIKE|ILIKE)\s*'([^']*)'\s*$/i.exec(options.filter);
      if (!match) throw new InvalidInputError(`experiment filters support only "name = '...'" and "name LIKE '...'", got "${options.filter}"`);
    }
    const max = Math.min(options.maxResults ?? 1000, LIMITS.maxSearchResults);
    const offset = decodeToken(options.pageToken);
    const stage = this.stageFilter(options.viewType);
    const rows = await this.dataSource.getRepository(ExperimentEntity).find({
      where: stage ? { lifecycleStage: stage } : {},
      order: { experimentId: 'ASC' },
    });
    let matching = rows;
    const match = options.filter ? /^\s*(?:attributes\.)?name\s*(=|LIKE|ILIKE)\s*'([^']*)'\s*$/i.exec(options.filter) : null;
    if (match) {
      const op = match[1].toUpperCase();
      const pattern = new RegExp(`^${match[2].replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/%/g, '.*').replace(/_/g, '.')}$`, op === 'ILIKE' ? 'i' : '');
      matching = rows.filter((r) => (op === '=' ? r.name === match[2] : pattern.test(r.name)));
    }
    const page = matching.slice(offset, offset + max);
    const experiments = [];
    for (const row of page) experiments.push(this.experimentJson(row, await this.experimentTags(row.experimentId)));
    return { experiments, ...(offset + max < matching.length ? { next_page_token: encodeToken(offset + max) } : {}) };
  }

  async setExperimentLifecycle(id: unknown, stage: 'active' | 'deleted'): Promise<void> {
    const experimentId = this.parseExperimentId(id);
    if (experimentId === 0 && stage === 'deleted') throw new InvalidInputError('the default experiment 0 cannot be deleted');
    const result = await this.dataSource
      .getRepository(ExperimentEntity)
      .update({ experimentId }, { lifecycleStage: stage, lastUpdateTime: Date.now() });
    if (!result.affected) throw new NotFoundError(`no experiment with id "${String(id)}"`);
  }

  private stageFilter(viewType: unknown): string | undefined {
    const view = String(viewType ?? 'ACTIVE_ONLY').toUpperCase();
    if (view === 'ACTIVE_ONLY' || view === '1') return 'active';
    if (view === 'DELETED_ONLY' || view === '2') return 'deleted';
    if (view === 'ALL' || view === '3') return undefined;
    throw new InvalidInputError(`invalid view type "${String(viewType)}"`);
  }

  // ---- runs --------------------------------------------------------------------------

  private infoJson(run: RunRow) {
    return {
      run_id: run.runUuid,
      run_uuid: run.runUuid,
      run_name: run.name,
      experiment_id: String(run.experimentId),
      user_id: run.userId,
      status: run.status,
      start_time: run.startTime,
      ...(run.endTime !== null ? { end_time: run.endTime } : {}),
      artifact_uri: run.artifactUri,
      lifecycle_stage: run.lifecycleStage,
    };
  }

  private async runRow(runId: unknown, manager: EntityManager = this.dataSource.manager): Promise<RunRow> {
    if (typeof runId !== 'string' || !runId) throw new InvalidInputError('run_id is required');
    const run = await manager.findOne(RunEntity, { where: { runUuid: runId } });
    if (!run) throw new NotFoundError(`run with id=${runId} not found`);
    return run;
  }

  /** Full runs (info + latest metrics, params, tags), in the order of `ids`. */
  private async hydrate(ids: string[]) {
    if (ids.length === 0) return [];
    const runs: RunRow[] = [];
    const params: KeyValueRow[] = [];
    const tags: KeyValueRow[] = [];
    const metrics: LatestMetricRow[] = [];
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = In(ids.slice(i, i + 500));
      runs.push(...(await this.dataSource.getRepository(RunEntity).find({ where: { runUuid: chunk } })));
      params.push(...(await this.dataSource.getRepository(ParamEntity).find({ where: { runUuid: chunk }, order: { key: 'ASC' } })));
      tags.push(...(await this.dataSource.getRepository(TagEntity).find({ where: { runUuid: chunk }, order: { key: 'ASC' } })));
      metrics.push(...(await this.dataSource.getRepository(LatestMetricEntity).find({ where: { runUuid: chunk }, order: { key: 'ASC' } })));
    }
    const byRun = <T extends { runUuid: string }>(rows: T[]) => {
      const map = new Map<string, T[]>();
      for (const row of rows) map.set(row.runUuid, [...(map.get(row.runUuid) ?? []), row]);
      return map;
    };
    const runById = new Map(runs.map((r) => [r.runUuid, r]));
    const [p, t, m] = [byRun(params), byRun(tags), byRun(metrics)];
    return ids
      .filter((id) => runById.has(id))
      .map((id) => ({
        info: this.infoJson(runById.get(id)!),
        data: {
          metrics: (m.get(id) ?? []).map(metricJson),
          params: (p.get(id) ?? []).map((r) => ({ key: r.key, value: r.value })),
          tags: (t.get(id) ?? []).map((r) => ({ key: r.key, value: r.value })),
        },
        inputs: {},
      }));
  }

  async getRun(runId: unknown) {
    const run = await this.runRow(runId);
    return (await this.hydrate([run.runUuid]))[0];
  }

  async createRun(input: { experimentId: unknown; userId?: unknown; runName?: unknown; startTime?: number; tags: KeyValue[] }) {
    const experiment = await this.dataSource
      .getRepository(ExperimentEntity)
      .findOne({ where: { experimentId: this.parseExperimentId(input.experimentId ?? '0') } });
    if (!experiment) throw new NotFoundError(`no experiment with id "${String(input.experimentId)}"`);
    if (experiment.lifecycleStage !== 'active') {
      throw new InvalidInputError(`experiment "${experiment.name}" is deleted; restore it or use another one`);
    }
    const tagged = input.tags.find((t) => t.key === RUN_NAME_TAG)?.value;
    const given = typeof input.runName === 'string' && input.runName ? input.runName : undefined;
    if (given && tagged && given !== tagged) {
      throw new InvalidInputError(`run_name "${given}" and the ${RUN_NAME_TAG} tag "${tagged}" differ`);
    }
    const name = given ?? tagged ?? randomRunName();
    const runUuid = randomUUID().replace(/-/g, '');
    const run: RunRow = {
      runUuid,
      experimentId: experiment.experimentId,
      name,
      userId: typeof input.userId === 'string' ? input.userId : '',
      status: 'RUNNING',
      startTime: input.startTime ?? Date.now(),
      endTime: null,
      lifecycleStage: 'active',
      artifactUri: `${experiment.artifactLocation.replace(/\/+$/, '')}/${runUuid}/artifacts`,
    };
    const tags = [...input.tags.filter((t) => t.key !== RUN_NAME_TAG), { key: RUN_NAME_TAG, value: name }];
    for (const tag of tags) {
      validateKey('tag', tag.key);
      tag.value = validateValue('tag', tag.key, tag.value, LIMITS.tagValueLength);
    }
    await inTransaction(this.dataSource, async (manager) => {
      await manager.insert(RunEntity, run);
      await manager.insert(TagEntity, dedupe(tags).map((t) => ({ runUuid, ...t })));
    });
    return this.getRun(runUuid);
  }

  /** Sets status/end time/name; a terminal status publishes `run.finished` with the latest metrics. */
  async updateRun(input: { runId: unknown; status?: unknown; endTime?: number; runName?: unknown }) {
    const status = input.status === undefined || input.status === null || input.status === '' ? undefined : parseStatus(input.status);
    const run = await inTransaction(this.dataSource, async (manager) => {
      const run = await this.runRow(input.runId, manager);
      this.assertActive(run);
      if (status) run.status = status;
      if (input.endTime !== undefined) run.endTime = input.endTime;
      else if (status && TERMINAL.includes(status) && run.endTime === null) run.endTime = Date.now();
      if (typeof input.runName === 'string' && input.runName) {
        run.name = input.runName;
        await manager.upsert(TagEntity, [{ runUuid: run.runUuid, key: RUN_NAME_TAG, value: input.runName }], ['runUuid', 'key']);
      }
      await manager.update(RunEntity, { runUuid: run.runUuid }, { status: run.status, endTime: run.endTime, name: run.name });
      return run;
    });
    if (status && TERMINAL.includes(status)) await this.publishFinished(run);
    return this.infoJson(run);
  }

  private async publishFinished(run: RunRow): Promise<void> {
    const latest = await this.dataSource.getRepository(LatestMetricEntity).find({ where: { runUuid: run.runUuid } });
    const metrics = Object.fromEntries(latest.filter((m) => !m.isNan && Number.isFinite(m.value)).map((m) => [m.key, m.value]));
    const status = run.status as 'FINISHED' | 'FAILED' | 'KILLED';
    await this.bus.publish(
      createEvent('run.finished', {
        // Re-ending a run the same way is the same event: consumers apply it once.
        id: uuidv5(`${run.runUuid}/${status}`, EVENT_ID_NAMESPACE),
        source: SERVICE,
        subject: run.runUuid,
        data: { runId: run.runUuid, experimentId: String(run.experimentId), status, metrics },
      }),
    );
  }

  async setRunLifecycle(runId: unknown, stage: 'active' | 'deleted'): Promise<void> {
    const run = await this.runRow(runId);
    await this.dataSource.getRepository(RunEntity).update({ runUuid: run.runUuid }, { lifecycleStage: stage });
  }

  private assertActive(run: RunRow): void {
    if (run.lifecycleStage !== 'active') {
      throw new InvalidInputError(`the run ${run.runUuid} must be in the 'active' state; current state is ${run.lifecycleStage}`);
    }
  }

  async deleteTag(runId: unknown, key: unknown): Promise<void> {
    const run = await this.runRow(runId);
    this.assertActive(run);
    const result = await this.dataSource.getRepository(TagEntity).delete({ runUuid: run.runUuid, key: String(key) });
    if (!result.affected) throw new NotFoundError(`no tag with name: ${String(key)} in run with id ${run.runUuid}`);
  }

  // ---- logging -----------------------------------------------------------------------

  /** log-batch (and every single log-* route): all or nothing, in one transaction. */
  async logBatch(runId: unknown, batch: { metrics?: MetricInput[]; params?: KeyValue[]; tags?: KeyValue[] }): Promise<void> {
    const metrics = batch.metrics ?? [];
    const params = batch.params ?? [];
    const tags = batch.tags ?? [];
    if (metrics.length > LIMITS.metricsPerBatch) {
      throw new InvalidInputError(`A batch logging request can contain at most ${LIMITS.metricsPerBatch} metrics. Got ${metrics.length} metrics.`);
    }
    if (params.length > LIMITS.paramsPerBatch) {
      throw new InvalidInputError(`A batch logging request can contain at most ${LIMITS.paramsPerBatch} params. Got ${params.length} params.`);
    }
    if (tags.length > LIMITS.tagsPerBatch) {
      throw new InvalidInputError(`A batch logging request can contain at most ${LIMITS.tagsPerBatch} tags. Got ${tags.length} tags.`);
    }
    if (metrics.length + params.length + tags.length > LIMITS.entitiesPerBatch) {
      throw new InvalidInputError(`A batch logging request can contain at most ${LIMITS.entitiesPerBatch} metrics, params and tags in total.`);
    }
    for (const key of new Set(metrics.map((m) => m.key))) validateKey('metric', key);
    for (const p of params) {
      validateKey('param', p.key);
      p.value = validateValue('param', p.key, p.value, LIMITS.paramValueLength);
    }
    for (const t of tags) {
      validateKey('tag', t.key);
      t.value = validateValue('tag', t.key, t.value, LIMITS.tagValueLength);
    }
    const seenParams = new Map<string, string>();
    for (const p of params) {
      const before = seenParams.get(p.key);
      if (before !== undefined && before !== p.value) {
        throw new InvalidInputError(`duplicate param key "${p.key}" with different values ("${before}", "${p.value}") in one batch`);
      }
      seenParams.set(p.key, p.value);
    }

    if (typeof runId !== 'string' || !runId) throw new InvalidInputError('run_id is required');
    await this.runLog.logBatch(runId, {
      metrics: metrics.map((m) => ({
        runUuid: runId,
        key: m.key,
        value: Number.isNaN(m.value) ? 0 : m.value,
        isNan: Number.isNaN(m.value),
        timestamp: m.timestamp,
        step: m.step,
      })),
      params: [...seenParams].map(([key, value]) => ({ key, value })),
      tags: dedupe(tags),
    });
  }

  async metricHistory(runId: unknown, key: unknown, maxResults?: number, pageToken?: string) {
    const run = await this.runRow(runId);
    if (typeof key !== 'string' || !key) throw new InvalidInputError('metric_key is required');
    const offset = decodeToken(pageToken);
    const take = maxResults ? Math.min(maxResults, 25_000) : undefined;
    const rows = await this.dataSource.getRepository(MetricEntity).find({
      where: { runUuid: run.runUuid, key },
      order: { step: 'ASC', timestamp: 'ASC', id: 'ASC' },
      skip: offset,
      take: take === undefined ? undefined : take + 1,
    });
    const more = take !== undefined && rows.length > take;
    return {
      metrics: (more ? rows.slice(0, take) : rows).map(metricJson),
      ...(more ? { next_page_token: encodeToken(offset + take!) } : {}),
    };
  }

  // ---- search ------------------------------------------------------------------------

  async searchRuns(input: { experimentIds: unknown[]; filter?: string; viewType?: unknown; maxResults?: number; orderBy?: string[]; pageToken?: string }) {
    const clauses = parseFilter(input.filter);
    const orderBy = parseOrderBy(input.orderBy);
    const max = input.maxResults ?? LIMITS.defaultSearchResults;
    if (!Number.isInteger(max) || max < 1 || max > LIMITS.maxSearchResults) {
      throw new InvalidInputError(`Invalid value ${max} for parameter 'max_results' supplied. It must be at most ${LIMITS.maxSearchResults}`);
    }
    const offset = decodeToken(input.pageToken);
    const experimentIds = input.experimentIds.map((id) => this.parseExperimentId(id));
    if (experimentIds.length === 0) return { runs: [] };
    const stage = this.stageFilter(input.viewType);

    const params: unknown[] = [];
    const p = (value: unknown) => this.placeholder(params, value);
    // Placeholders in text order (SQLite's `?` are positional): joins, then the conditions.
    const joins: string[] = [];
    const order: string[] = [];
    orderBy.forEach((o, i) => this.orderTerm(o, i, p, joins, order));
    const where = [`r.experiment_id IN (${experimentIds.map(p).join(', ')})`];
    if (stage) where.push(`r.lifecycle_stage = ${p(stage)}`);
    for (const clause of clauses) where.push(this.condition(clause, p));
    if (!orderBy.some((o) => o.kind === 'attribute' && ATTRIBUTES[o.key].column === 'start_time')) order.push('r.start_time DESC');
    order.push('r.run_uuid ASC');
    const sql = `SELECT r.run_uuid AS run_uuid FROM tracking_runs r ${joins.join(' ')}
      WHERE ${where.join(' AND ')} ORDER BY ${order.join(', ')} LIMIT ${max + 1} OFFSET ${offset}`;
    const ids = ((await this.dataSource.query(sql, params)) as { run_uuid: string }[]).map((r) => r.run_uuid);
    const more = ids.length > max;
    const runs = await this.hydrate(more ? ids.slice(0, max) : ids);
    return { runs, ...(more ? { next_page_token: encodeToken(offset + max) } : {}) };
  }

  private condition(clause: Clause, p: (value: unknown) => string): string {
    const { kind, key, comparator, value } = clause;
    const compare = (column: string): string => {
      if (comparator === 'IN' || comparator === 'NOT IN') return `${column} ${comparator} (${(value as string[]).map(p).join(', ')})`;
      if (comparator === 'ILIKE') return `LOWER(${column}) LIKE LOWER(${p(value)})`;
      if (comparator === 'LIKE') return this.postgres ? `${column} LIKE ${p(value)}` : `${column} GLOB ${p(likeToGlob(value as string))}`;
      return `${column} ${comparator} ${p(value)}`;
    };
    if (kind === 'attribute') return compare(`r.${ATTRIBUTES[key].column}`);
    const table = kind === 'metric' ? 'tracking_latest_metrics' : kind === 'param' ? 'tracking_params' : 'tracking_tags';
    const nan = kind === 'metric' ? ' AND NOT f.is_nan' : '';
    return `EXISTS (SELECT 1 FROM ${table} f WHERE f.run_uuid = r.run_uuid AND f.key = ${p(key)}${nan} AND ${compare('f.value')})`;
  }

  private orderTerm(o: OrderBy, i: number, p: (value: unknown) => string, joins: string[], order: string[]): void {
    const direction = o.ascending ? 'ASC' : 'DESC';
    if (o.kind === 'attribute') {
      const column = `r.${ATTRIBUTES[o.key].column}`;
      order.push(`CASE WHEN ${column} IS NULL THEN 1 ELSE 0 END`, `${column} ${direction}`);
      return;
    }
    const table = o.kind === 'metric' ? 'tracking_latest_metrics' : o.kind === 'param' ? 'tracking_params' : 'tracking_tags';
    const alias = `o${i}`;
    joins.push(`LEFT JOIN ${table} ${alias} ON ${alias}.run_uuid = r.run_uuid AND ${alias}.key = ${p(o.key)}`);
    // Runs without the metric (and NaN values) sort last either way, as in MLflow.
    const missing = o.kind === 'metric' ? `${alias}.value IS NULL OR ${alias}.is_nan` : `${alias}.value IS NULL`;
    order.push(`CASE WHEN ${missing} THEN 1 ELSE 0 END`, `${alias}.value ${direction}`);
  }

  // ---- artifacts ---------------------------------------------------------------------

  /** artifacts/list: paths relative to the run's artifact root. */
  async listArtifacts(runId: unknown, path?: string) {
    const run = await this.runRow(runId);
    const root = proxiedPath(run.artifactUri);
    if (root === undefined) return { root_uri: run.artifactUri, files: [] as FileInfo[] };
    const sub = path ? this.artifactsSubPath(path) : '';
    const files = await this.artifacts.list(sub ? `${root}/${sub}` : root);
    return { root_uri: run.artifactUri, files: files.map((f) => ({ ...f, path: sub ? `${sub}/${f.path}` : f.path })) };
  }

  private artifactsSubPath(path: string): string {
    this.artifacts.locate(path); // rejects traversal
    return path.replace(/^\/+|\/+$/g, '');
  }
}

function dedupe(items: KeyValue[]): KeyValue[] {
  return [...new Map(items.map((t) => [t.key, { key: t.key, value: String(t.value) }])).values()];
}

/** SQL LIKE (% and _) as a case-sensitive SQLite GLOB. */
function likeToGlob(pattern: string): string {
  return pattern.replace(/[[*?\]]/g, (c) => `[${c}]`).replace(/%/g, '*').replace(/_/g, '?');
}

export function parseStatus(value: unknown): RunStatus {
  const byNumber: Record<string, RunStatus> = { '1': 'RUNNING', '2': 'SCHEDULED', '3': 'FINISHED', '4': 'FAILED', '5': 'KILLED' };
  const text = String(value);
  const status = byNumber[text] ?? text.toUpperCase();
  if (!(RUN_STATUSES as readonly string[]).includes(status)) {
    throw new InvalidInputError(`invalid run status "${text}"; expected one of ${RUN_STATUSES.join(', ')}`);
  }
  return status as RunStatus;
}

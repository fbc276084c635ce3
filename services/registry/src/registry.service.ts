import { readFile } from 'node:fs/promises';
import { relative, resolve, sep, isAbsolute } from 'node:path';
import type { DataSource, EntityManager } from 'typeorm';
import { v5 as uuidv5 } from 'uuid';
import { PermanentError, type EventBus } from '@mlops/bus';
import { createEvent, type AnyEvent, type EventEnvelope } from '@mlops/contracts';
import { applyOnce, inTransaction } from '@mlops/persistence';
import { filePathOf, type ContentStore } from './artifacts/artifact-store';
import { invalid, ApiError, notFound } from '@mlops/http';
import { holdoutAccuracy, openModel, parseSignature, signatureDifferences, type Holdout, type Signature } from './onnx/onnx-model';
import {
  AliasEntity,
  ChampionHistoryEntity,
  GateDecisionEntity,
  ModelTagEntity,
  ModelVersionEntity,
  RegisteredModelEntity,
  VersionTagEntity,
  type GateDecisionRow,
  type ModelVersionRow,
  type RegisteredModelRow,
} from './store/entities';

const SERVICE = 'registry';
const CONSUMER = 'registry.training-completed';
const EVENT_ID_NAMESPACE = '8f3b6a52-1c4d-4e7f-9b2a-5d6e7f8a9b0c';
export const CHAMPION = 'champion';
export const CHALLENGER = 'challenger';

const NAME = /^[\p{L}\p{N}_.\-]{1,200}$/u;
/** Gate attempts when the champion keeps changing while a candidate is scored. */
const MAX_GATE_ATTEMPTS = 5;

/** The champion moved between scoring a candidate and recording the decision. */
class ChampionChanged extends Error {
  constructor(scoredAgainst: number | null, now: number | null) {
    super(`the champion changed from ${scoredAgainst ?? 'none'} to ${now ?? 'none'} while the candidate was scored`);
    this.name = 'ChampionChanged';
  }
}
const ALIAS = /^[a-zA-Z_][a-zA-Z0-9_-]{0,99}$/;

export interface KeyValue {
  key: string;
  value: string;
}

export interface GateSettings {
  metric: string;
  lowerIsBetter: string[];
  tolerance: number;
  holdoutPath?: string;
  canaryShare: number;
  importRoots: string[];
}

export interface NewVersion {
  name: string;
  bytes: Uint8Array;
  source: string;
  runId?: string;
  datasetId?: string;
  datasetHash?: string;
  codeVersion?: string;
  declared?: Signature;
  metrics?: Record<string, number>;
  tags?: KeyValue[];
  description?: string;
}

function validName(name: unknown): string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw invalid(`invalid model name ${JSON.stringify(name)}: 1-200 letters, digits, '_', '.' or '-'`);
  }
  return name;
}

function validVersion(version: unknown): number {
  const text = String(version ?? '');
  if (!/^[1-9]\d{0,8}$/.test(text)) throw invalid(`invalid version ${JSON.stringify(version)}: expected a positive integer`);
  return Number(text);
}

function validAlias(alias: unknown): string {
  if (typeof alias !== 'string' || !ALIAS.test(alias)) throw invalid(`invalid alias ${JSON.stringify(alias)}`);
  if (/^v\d+$/i.test(alias) || alias.toLowerCase() === 'latest') throw invalid(`alias "${alias}" is reserved`);
  return alias;
}

/** `key = 'value'` clauses joined by AND (MLflow's registry filter, the subset this store supports). */
function parseFilter(filter: string | undefined, keys: string[]): { key: string; op: string; value: string }[] {
  if (!filter || !filter.trim()) return [];
  return filter.split(/\s+AND\s+/i).map((part) => {
    const match = /^\s*(\w+)\s*(=|!=|LIKE|ILIKE)\s*'([^']*)'\s*$/i.exec(part);
    if (!match || !keys.includes(match[1])) {
      throw invalid(`unsupported filter "${part.trim()}": expected ${keys.map((k) => `${k} = '...'`).join(' or ')} (LIKE/ILIKE allowed), joined by AND`);
    }
    return { key: match[1], op: match[2].toUpperCase(), value: match[3] };
  });
}

function matches(actual: string | null, op: string, value: string): boolean {
  if (op === '=') return actual === value;
  if (op === '!=') return actual !== value;
  const pattern = new RegExp(`^${value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/%/g, '.*').replace(/_/g, '.')}$`, op === 'ILIKE' ? 'i' : '');
  return actual !== null && pattern.test(actual);
}

/** The model registry: models, versions, aliases, lineage, the quality gate and its events. */
export class RegistryService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly bus: EventBus,
    readonly store: ContentStore,
    readonly gate: GateSettings,
  ) {}

  // ---- registered models ---------------------------------------------------------------

  async createRegisteredModel(nameValue: unknown, description = '', tags: KeyValue[] = []) {
    const name = validName(nameValue);
    await inTransaction(this.dataSource, async (manager) => {
      if (await manager.exists(RegisteredModelEntity, { where: { name } })) {
        throw new ApiError('RESOURCE_ALREADY_EXISTS', `Registered Model (name=${name}) already exists.`);
      }
      const now = Date.now();
      await manager.insert(RegisteredModelEntity, { name, description, creationTime: now, lastUpdatedTime: now });
      if (tags.length) await manager.insert(ModelTagEntity, dedupe(tags).map((t) => ({ name, ...t })));
    });
    return this.getRegisteredModel(name);
  }

  private async modelRow(name: unknown, manager: EntityManager = this.dataSource.manager): Promise<RegisteredModelRow> {
    const row = await manager.findOne(RegisteredModelEntity, { where: { name: validName(name) } });
    if (!row) throw notFound(`Registered Model with name=${String(name)} not found`);
    return row;
  }

  async getRegisteredModel(nameValue: unknown) {
    const row = await this.modelRow(nameValue);
    const [tags, aliases, versions] = await Promise.all([
      this.dataSource.getRepository(ModelTagEntity).find({ where: { name: row.name }, order: { key: 'ASC' } }),
      this.dataSource.getRepository(AliasEntity).find({ where: { name: row.name }, order: { alias: 'ASC' } }),
      this.dataSource.getRepository(ModelVersionEntity).find({ where: { name: row.name }, order: { version: 'DESC' }, take: 1 }),
    ]);
    return {
      name: row.name,
      creation_timestamp: row.creationTime,
      last_updated_timestamp: row.lastUpdatedTime,
      description: row.description,
      tags: tags.map((t) => ({ key: t.key, value: t.value })),
      aliases: aliases.map((a) => ({ alias: a.alias, version: String(a.version) })),
      latest_versions: await Promise.all(versions.map((v) => this.versionJson(v))),
    };
  }

  async searchRegisteredModels(filter?: string, maxResults = 100) {
    const clauses = parseFilter(filter, ['name']);
    const rows = await this.dataSource.getRepository(RegisteredModelEntity).find({ order: { name: 'ASC' } });
    const hits = rows.filter((r) => clauses.every((c) => matches(r.name, c.op, c.value))).slice(0, maxResults);
    return { registered_models: await Promise.all(hits.map((r) => this.getRegisteredModel(r.name))) };
  }

  // ---- versions ------------------------------------------------------------------------

  async versionJson(row: ModelVersionRow) {
    const [tags, aliases] = await Promise.all([
      this.dataSource.getRepository(VersionTagEntity).find({ where: { name: row.name, version: row.version }, order: { key: 'ASC' } }),
      this.dataSource.getRepository(AliasEntity).find({ where: { name: row.name, version: row.version }, order: { alias: 'ASC' } }),
    ]);
    return {
      name: row.name,
      version: String(row.version),
      creation_timestamp: row.creationTime,
      last_updated_timestamp: row.lastUpdatedTime,
      current_stage: 'None',
      description: row.description,
      source: row.source,
      run_id: row.runId ?? '',
      status: row.status,
      tags: tags.map((t) => ({ key: t.key, value: t.value })),
      aliases: aliases.map((a) => a.alias),
      // Beyond MLflow's ModelVersion: what the gate, serving and lineage need.
      artifact_hash: row.artifactHash,
      artifact_uri: row.artifactUri,
      signature: JSON.parse(row.signature) as Signature,
      metrics: JSON.parse(row.metrics) as Record<string, number>,
      dataset_id: row.datasetId,
      dataset_hash: row.datasetHash,
      code_version: row.codeVersion,
    };
  }

  private async versionRow(name: unknown, version: unknown, manager: EntityManager = this.dataSource.manager): Promise<ModelVersionRow> {
    const row = await manager.findOne(ModelVersionEntity, { where: { name: validName(name), version: validVersion(version) } });
    if (!row) throw notFound(`Model Version (name=${String(name)}, version=${String(version)}) not found`);
    return row;
  }

  async getVersion(name: unknown, version: unknown) {
    return this.versionJson(await this.versionRow(name, version));
  }

  async searchVersions(filter?: string, maxResults = 1000) {
    const clauses = parseFilter(filter, ['name', 'run_id', 'dataset_hash']);
    const column = { name: 'name', run_id: 'runId', dataset_hash: 'datasetHash' } as const;
    const rows = await this.dataSource.getRepository(ModelVersionEntity).find({ order: { name: 'ASC', version: 'DESC' } });
    const hits = rows
      .filter((r) => clauses.every((c) => matches(r[column[c.key as keyof typeof column]], c.op, c.value)))
      .slice(0, maxResults);
    return { model_versions: await Promise.all(hits.map((r) => this.versionJson(r))) };
  }

  /**
   * Checks the bytes are an ONNX model onnxruntime loads and, if a signature was declared,
   * that the model's inputs/outputs match it; only then stores them. Throws 400 otherwise,
   * with nothing written.
   */
  private async admit(bytes: Uint8Array, declared?: Signature) {
    if (bytes.byteLength === 0) throw invalid('the model is empty: send the ONNX bytes as the request body');
    const { session, signature } = await openModel(bytes);
    if (declared) {
      const problems = signatureDifferences(declared, signature);
      if (problems.length) {
        await session.release().catch(() => undefined);
        throw invalid(`the model does not match the declared signature: ${problems.join('; ')}`);
      }
    }
    const stored = await this.store.put(bytes);
    return { session, signature, ...stored };
  }

  private async insertVersion(
    manager: EntityManager,
    input: Omit<NewVersion, 'bytes' | 'declared'>,
    artifact: { hash: string; path: string; signature: Signature },
    origin: { sourceEventId?: string; correlationId?: string } = {},
  ): Promise<ModelVersionRow> {
    const name = validName(input.name);
    const now = Date.now();
    if (!(await manager.exists(RegisteredModelEntity, { where: { name } }))) {
      await manager.insert(RegisteredModelEntity, { name, description: '', creationTime: now, lastUpdatedTime: now });
    } else {
      await manager.update(RegisteredModelEntity, { name }, { lastUpdatedTime: now });
    }
    const latest = await manager.findOne(ModelVersionEntity, { where: { name }, order: { version: 'DESC' } });
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
    };
    await manager.insert(ModelVersionEntity, row);
    if (input.tags?.length) await manager.insert(VersionTagEntity, dedupe(input.tags).map((t) => ({ name, version: row.version, ...t })));
    return row;
  }

  /** Registers uploaded ONNX bytes as the next version (no gate: a manual registration). */
  async registerVersion(input: NewVersion) {
    validName(input.name);
    const artifact = await this.admit(input.bytes, input.declared);
    await artifact.session.release().catch(() => undefined);
    const row = await inTransaction(this.dataSource, (manager) => this.insertVersion(manager, input, artifact));
    await this.bus.publish(this.registeredEvent(row, { id: undefined, correlationId: undefined }));
    return this.versionJson(row);
  }

  /** MLflow's model-versions/create: `source` is a file path under one of REGISTRY_IMPORT_ROOTS. */
  async createVersionFromSource(input: Omit<NewVersion, 'bytes'>) {
    const path = resolve(filePathOf(input.source));
    const allowed = this.gate.importRoots.some((root) => {
      const rel = relative(resolve(root), path);
      return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) && !rel.split(sep).includes('..');
    });
    if (!allowed) {
      throw invalid(`source "${input.source}" is not under an import root (REGISTRY_IMPORT_ROOTS); upload the bytes to POST /models/${input.name}/versions instead`);
    }
    const bytes = await readFile(path).catch(() => {
      throw invalid(`source "${input.source}" cannot be read`);
    });
    return this.registerVersion({ ...input, bytes });
  }

  // ---- aliases, promotion, rollback ------------------------------------------------------

  async setAlias(nameValue: unknown, aliasValue: unknown, versionValue: unknown): Promise<void> {
    const alias = validAlias(aliasValue);
    if (alias === CHAMPION) {
      await this.promote(nameValue, versionValue, 'set via registered-models/alias');
      return;
    }
    const row = await this.versionRow(nameValue, versionValue);
    await this.dataSource.getRepository(AliasEntity).upsert([{ name: row.name, alias, version: row.version }], ['name', 'alias']);
  }

  async deleteAlias(nameValue: unknown, aliasValue: unknown): Promise<void> {
    const model = await this.modelRow(nameValue);
    const result = await this.dataSource.getRepository(AliasEntity).delete({ name: model.name, alias: validAlias(aliasValue) });
    if (!result.affected) throw notFound(`Registered model alias ${String(aliasValue)} not found.`);
  }

  async getByAlias(nameValue: unknown, aliasValue: unknown) {
    const model = await this.modelRow(nameValue);
    const alias = await this.dataSource.getRepository(AliasEntity).findOne({ where: { name: model.name, alias: validAlias(aliasValue) } });
    if (!alias) throw notFound(`Registered model alias ${String(aliasValue)} not found.`);
    return this.getVersion(model.name, alias.version);
  }

  /** Moves `champion` to a version (and off `challenger`); publishes model.promoted. */
  async promote(nameValue: unknown, versionValue: unknown, reason = 'promoted') {
    const result = await inTransaction(this.dataSource, async (manager) => {
      const row = await this.versionRow(nameValue, versionValue, manager);
      const current = await manager.findOne(AliasEntity, { where: { name: row.name, alias: CHAMPION } });
      if (current?.version === row.version) return { row, previous: current.version, changed: false };
      await manager.upsert(AliasEntity, [{ name: row.name, alias: CHAMPION, version: row.version }], ['name', 'alias']);
      await manager.delete(AliasEntity, { name: row.name, alias: CHALLENGER, version: row.version });
      await manager.insert(ChampionHistoryEntity, {
        name: row.name,
        version: row.version,
        previousVersion: current?.version ?? null,
        reason,
        rolledBack: false,
        changedAt: Date.now(),
      });
      return { row, previous: current?.version, changed: true };
    });
    if (result.changed) {
      await this.bus.publish(
        createEvent('model.promoted', {
          source: SERVICE,
          subject: result.row.name,
          correlationId: result.row.correlationId ?? undefined,
          data: { model: result.row.name, version: result.row.version, alias: CHAMPION, previousVersion: result.previous },
        }),
      );
    }
    return { model: result.row.name, champion: result.row.version, previous_version: result.previous ?? null, changed: result.changed };
  }

  /** Restores the champion before the latest promotion; publishes model.rolled_back. */
  async rollback(nameValue: unknown, reasonValue: unknown) {
    if (typeof reasonValue !== 'string' || !reasonValue.trim()) throw invalid("Missing value for required parameter 'reason'.");
    const reason = reasonValue.trim();
    const result = await inTransaction(this.dataSource, async (manager) => {
      const model = await this.modelRow(nameValue, manager);
      const last = await manager.findOne(ChampionHistoryEntity, { where: { name: model.name, rolledBack: false }, order: { id: 'DESC' } });
      if (!last) throw invalid(`model "${model.name}" has no promotion to roll back`);
      if (last.previousVersion === null) await manager.delete(AliasEntity, { name: model.name, alias: CHAMPION });
      else await manager.upsert(AliasEntity, [{ name: model.name, alias: CHAMPION, version: last.previousVersion }], ['name', 'alias']);
      await manager.update(ChampionHistoryEntity, { id: last.id }, { rolledBack: true });
      const rolled = await manager.findOne(ModelVersionEntity, { where: { name: model.name, version: last.version } });
      return { model: model.name, version: last.version, restored: last.previousVersion ?? undefined, correlationId: rolled?.correlationId ?? undefined };
    });
    await this.bus.publish(
      createEvent('model.rolled_back', {
        source: SERVICE,
        subject: result.model,
        correlationId: result.correlationId,
        data: { model: result.model, version: result.version, restoredVersion: result.restored, reason },
      }),
    );
    return { model: result.model, rolled_back_version: result.version, champion: result.restored ?? null };
  }

  // ---- gate ----------------------------------------------------------------------------

  async gateDecision(name: unknown, version: unknown) {
    const row = await this.versionRow(name, version);
    const decision = await this.dataSource.getRepository(GateDecisionEntity).findOne({ where: { name: row.name, version: row.version } });
    if (!decision) throw notFound(`model "${row.name}" version ${row.version} has no gate decision (it was not registered from training.completed)`);
    return gateJson(decision);
  }

  private async readHoldout(): Promise<Holdout | undefined> {
    if (!this.gate.holdoutPath) return undefined;
    const parsed = JSON.parse(await readFile(this.gate.holdoutPath, 'utf8')) as Holdout;
    if (!Array.isArray(parsed.inputs) || !Array.isArray(parsed.labels)) throw new Error(`${this.gate.holdoutPath}: expected {inputs: number[][], labels: number[]}`);
    return parsed;
  }

  /** Candidate vs champion on the configured metric; both scored the same way. */
  private async evaluate(
    candidate: { session: Awaited<ReturnType<typeof openModel>>['session']; metrics: Record<string, number> },
    champion: ModelVersionRow | null,
  ): Promise<Omit<GateDecisionRow, 'name' | 'version'>> {
    const metric = this.gate.metric;
    const higherIsBetter = !this.gate.lowerIsBetter.includes(metric);
    const tolerance = this.gate.tolerance;
    const holdout = metric === 'accuracy' ? await this.readHoldout() : undefined;
    const base = { metric, tolerance, higherIsBetter, decidedAt: Date.now() };
    let candidateScore: number | undefined;
    let championScore: number | undefined;
    let basis: string;
    if (holdout) {
      basis = 'holdout';
      candidateScore = await holdoutAccuracy(candidate.session, holdout);
      if (champion) {
        const { session } = await openModel(await this.store.read(champion.artifactHash));
        try {
          championScore = await holdoutAccuracy(session, holdout);
        } finally {
          await session.release().catch(() => undefined);
        }
      }
    } else {
      basis = 'reported';
      candidateScore = candidate.metrics[metric];
      if (champion) championScore = (JSON.parse(champion.metrics) as Record<string, number>)[metric];
    }
    const how = basis === 'holdout' ? `accuracy on the holdout ${this.gate.holdoutPath} (${holdout!.labels.length} rows)` : `${metric} as reported by training`;
    const record = (passed: boolean, reason: string) => ({
      ...base,
      passed,
      basis: champion ? basis : 'no-champion',
      candidateScore: candidateScore ?? null,
      championVersion: champion?.version ?? null,
      championScore: championScore ?? null,
      reason,
    });
    if (!champion) return record(true, `no champion yet: the candidate passes (candidate ${how}: ${candidateScore ?? 'n/a'})`);
    if (candidateScore === undefined || !Number.isFinite(candidateScore)) {
      return record(false, `the candidate has no ${metric} (${how}); it cannot be compared with champion version ${champion.version}`);
    }
    if (championScore === undefined || !Number.isFinite(championScore)) {
      return record(true, `champion version ${champion.version} has no ${metric} (${how}); the candidate passes`);
    }
    const passed = higherIsBetter ? candidateScore >= championScore - tolerance : candidateScore <= championScore + tolerance;
    const direction = higherIsBetter ? 'higher is better' : 'lower is better';
    return record(
      passed,
      `${how}: candidate ${candidateScore} vs champion version ${champion.version} ${championScore} (${direction}, tolerance ${tolerance}): ${passed ? 'pass' : 'reject'}`,
    );
  }

  // ---- training.completed ----------------------------------------------------------------

  /**
   * Registers the trained model, runs the quality gate against the champion and returns the
   * follow-up events (model.registered, plus deployment.requested on pass). Applied once per
   * event id; a redelivery returns the same events (same ids) without registering again.
   */
  async onTrainingCompleted(event: EventEnvelope<'training.completed'>): Promise<AnyEvent[]> {
    const existing = await this.dataSource.getRepository(ModelVersionEntity).findOne({ where: { sourceEventId: event.id } });
    if (existing) return this.followUps(existing, event);
    const data = event.data;
    const path = filePathOf(data.artifactUri);
    const bytes = await readFile(path).catch((error: Error) => {
      throw new Error(`cannot read the model at ${data.artifactUri}: ${error.message}`);
    });
    let artifact: Awaited<ReturnType<RegistryService['admit']>>;
    try {
      artifact = await this.admit(bytes, data.signature ? parseSignature(data.signature, 'data.signature') : undefined);
    } catch (error) {
      // A corrupt model or a signature mismatch will not heal by retrying.
      if (error instanceof ApiError) throw new PermanentError(`training.completed ${event.id}: ${error.message}`, { cause: error });
      throw error;
    }
    try {
      let outcome: Awaited<ReturnType<typeof applyOnce<ModelVersionRow>>> | undefined;
      for (let attempt = 1; !outcome; attempt++) {
        // Scoring runs ONNX sessions, so it stays outside the transaction; the transaction
        // then checks the champion it scored against is still the champion, else scores again.
        const champion = await this.championOf(data.model);
        const decision = await this.evaluate({ session: artifact.session, metrics: data.metrics }, champion);
        try {
          outcome = await applyOnce(this.dataSource, SERVICE, CONSUMER, event.id, async (manager) => {
            const now = await this.championAlias(data.model, manager, true);
            if ((now?.version ?? null) !== (champion?.version ?? null)) throw new ChampionChanged(champion?.version ?? null, now?.version ?? null);
            const row = await this.insertVersion(
              manager,
              {
                name: data.model,
                source: data.artifactUri,
                runId: data.runId,
                datasetId: data.datasetId,
                datasetHash: data.datasetHash,
                codeVersion: data.codeVersion,
                metrics: data.metrics,
                tags: [{ key: 'mlops.jobId', value: data.jobId }],
              },
              artifact,
              { sourceEventId: event.id, correlationId: event.correlationId },
            );
            await manager.insert(GateDecisionEntity, { name: row.name, version: row.version, ...decision });
            if (decision.passed) await manager.upsert(AliasEntity, [{ name: row.name, alias: CHALLENGER, version: row.version }], ['name', 'alias']);
            return row;
          });
        } catch (error) {
          if (!(error instanceof ChampionChanged) || attempt >= MAX_GATE_ATTEMPTS) throw error;
        }
      }
      const row = outcome.applied
        ? outcome.result
        : await this.dataSource.getRepository(ModelVersionEntity).findOneOrFail({ where: { sourceEventId: event.id } });
      return this.followUps(row, event);
    } finally {
      await artifact.session.release().catch(() => undefined);
    }
  }

  /**
   * The champion alias of a model. With `lock` (Postgres) the alias row is locked until the
   * transaction ends, so a promotion waits for the gate decision made against it.
   */
  private championAlias(name: string, manager: EntityManager = this.dataSource.manager, lock = false) {
    const locking = lock && this.dataSource.options.type === 'postgres';
    return manager.findOne(AliasEntity, { where: { name, alias: CHAMPION }, ...(locking ? { lock: { mode: 'pessimistic_write' as const } } : {}) });
  }

  private async championOf(name: string): Promise<ModelVersionRow | null> {
    const alias = await this.championAlias(name);
    return alias ? this.versionRow(name, alias.version) : null;
  }

  private registeredEvent(row: ModelVersionRow, cause: { id?: string; correlationId?: string }, decision?: GateDecisionRow | null) {
    return createEvent('model.registered', {
      id: cause.id ? uuidv5(`${cause.id}/model.registered`, EVENT_ID_NAMESPACE) : undefined,
      source: SERVICE,
      subject: row.name,
      correlationId: cause.correlationId,
      data: {
        model: row.name,
        version: row.version,
        runId: row.runId ?? undefined,
        datasetHash: row.datasetHash ?? undefined,
        artifactHash: row.artifactHash,
        gate: decision
          ? {
              passed: decision.passed,
              reason: decision.reason,
              metric: decision.metric,
              candidateScore: decision.candidateScore ?? undefined,
              championVersion: decision.championVersion ?? undefined,
              championScore: decision.championScore ?? undefined,
            }
          : undefined,
      },
    });
  }

  private async followUps(row: ModelVersionRow, cause: EventEnvelope): Promise<AnyEvent[]> {
    const decision = await this.dataSource.getRepository(GateDecisionEntity).findOne({ where: { name: row.name, version: row.version } });
    const events: AnyEvent[] = [this.registeredEvent(row, cause, decision)];
    if (decision?.passed) {
      events.push(
        createEvent('deployment.requested', {
          id: uuidv5(`${cause.id}/deployment.requested`, EVENT_ID_NAMESPACE),
          source: SERVICE,
          subject: row.name,
          correlationId: cause.correlationId,
          data: { model: row.name, version: row.version, artifactUri: row.artifactUri, strategy: 'canary', canaryShare: this.gate.canaryShare },
        }),
      );
    }
    return events;
  }

  // ---- lineage -------------------------------------------------------------------------

  async lineage(name: unknown, version: unknown) {
    const row = await this.versionRow(name, version);
    return {
      model: row.name,
      version: row.version,
      run_id: row.runId,
      dataset: { id: row.datasetId, hash: row.datasetHash },
      code_version: row.codeVersion,
      artifact: { hash: row.artifactHash, uri: row.artifactUri },
      source: row.source,
    };
  }

  async datasetLineage(hash: unknown) {
    if (typeof hash !== 'string' || !hash) throw invalid('a dataset hash is required');
    const rows = await this.dataSource.getRepository(ModelVersionEntity).find({ where: { datasetHash: hash }, order: { name: 'ASC', version: 'ASC' } });
    return {
      dataset_hash: hash,
      model_versions: rows.map((r) => ({ model: r.name, version: r.version, run_id: r.runId, dataset_id: r.datasetId, code_version: r.codeVersion })),
    };
  }
}

export function gateJson(d: GateDecisionRow) {
  return {
    model: d.name,
    version: d.version,
    passed: d.passed,
    decision: d.passed ? 'pass' : 'reject',
    metric: d.metric,
    basis: d.basis,
    higher_is_better: d.higherIsBetter,
    tolerance: d.tolerance,
    candidate_score: d.candidateScore,
    champion_version: d.championVersion,
    champion_score: d.championScore,
    reason: d.reason,
    decided_at: d.decidedAt,
  };
}

function dedupe(items: KeyValue[]): KeyValue[] {
  return [...new Map(items.map((t) => [t.key, { key: t.key, value: String(t.value) }])).values()];
}

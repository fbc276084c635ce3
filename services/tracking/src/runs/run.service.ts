import { randomInt, randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { v5 as uuidv5 } from 'uuid';
import { EventBus } from '@mlops/bus';
import { createEvent } from '@mlops/contracts';
import { InvalidInputError, NotFoundError } from '@mlops/errors';
import { parseExperimentId } from '../experiments/experiment';
import type { RunRow } from '../store/entities';
import { ExperimentRepository } from '../store/experiment.repository';
import { MetricRepository } from '../store/metric.repository';
import { RunRepository, type RunTx } from '../store/run.repository';
import { RUN_NAME_TAG, type KeyValue, type RunWithData } from './run';
import { dedupe, LIMITS, validateKey, validateValue } from './run-input';
import { parseStatus, TERMINAL } from './run-status';

const SERVICE = 'tracking';
const EVENT_ID_NAMESPACE = '2d7c1f0a-5b8e-4c3d-9a61-7e2f4b9c8d15';

const ADJECTIVES = ['bright', 'calm', 'clever', 'bold', 'gentle', 'quick', 'silent', 'sunny', 'brave', 'lucky', 'merry', 'wise'];
const NOUNS = ['owl', 'fox', 'hawk', 'lynx', 'otter', 'panda', 'whale', 'heron', 'crab', 'moth', 'wolf', 'finch'];
const randomRunName = () => `${ADJECTIVES[randomInt(ADJECTIVES.length)]}-${NOUNS[randomInt(NOUNS.length)]}-${randomInt(1000)}`;

/** MLflow runs: create, get, update (ending one publishes `run.finished`), delete and restore, delete-tag. */
@Injectable()
export class RunService {
  constructor(
    private readonly runs: RunRepository,
    private readonly experiments: ExperimentRepository,
    private readonly metrics: MetricRepository,
    private readonly bus: EventBus,
  ) {}

  /** The run; InvalidInputError without an id, NotFoundError for an unknown one. */
  async requireRun(runId: unknown, tx?: RunTx): Promise<RunRow> {
    if (typeof runId !== 'string' || !runId) throw new InvalidInputError('run_id is required');
    const run = await this.runs.find(runId, tx);
    if (!run) throw new NotFoundError(`run with id=${runId} not found`);
    return run;
  }

  async getRun(runId: unknown): Promise<RunWithData> {
    const run = await this.requireRun(runId);
    return (await this.runs.findWithData([run.runUuid]))[0];
  }

  /** A RUNNING run in an active experiment, named by run_name, else its mlflow.runName tag, else at random. */
  async createRun(input: { experimentId: unknown; userId?: unknown; runName?: unknown; startTime?: number; tags: KeyValue[] }): Promise<RunWithData> {
    const experiment = await this.experiments.findById(parseExperimentId(input.experimentId ?? '0'));
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
    await this.runs.insert(run, dedupe(tags));
    return this.getRun(runUuid);
  }

  /** Sets status/end time/name; a terminal status publishes `run.finished` with the latest metrics. */
  async updateRun(input: { runId: unknown; status?: unknown; endTime?: number; runName?: unknown }): Promise<RunRow> {
    const status = input.status === undefined || input.status === null || input.status === '' ? undefined : parseStatus(input.status);
    const run = await this.runs.transaction(async (tx) => {
      const run = await this.requireRun(input.runId, tx);
      this.assertActive(run);
      if (status) run.status = status;
      if (input.endTime !== undefined) run.endTime = input.endTime;
      else if (status && TERMINAL.includes(status) && run.endTime === null) run.endTime = Date.now();
      if (typeof input.runName === 'string' && input.runName) {
        run.name = input.runName;
        await this.runs.setNameTag(tx, run.runUuid, input.runName);
      }
      await this.runs.updateInfo(tx, run);
      return run;
    });
    if (status && TERMINAL.includes(status)) await this.publishFinished(run);
    return run;
  }

  async setRunLifecycle(runId: unknown, stage: 'active' | 'deleted'): Promise<void> {
    const run = await this.requireRun(runId);
    await this.runs.setLifecycle(run.runUuid, stage);
  }

  async deleteTag(runId: unknown, key: unknown): Promise<void> {
    const run = await this.requireRun(runId);
    this.assertActive(run);
    if (!(await this.runs.deleteTag(run.runUuid, String(key)))) {
      throw new NotFoundError(`no tag with name: ${String(key)} in run with id ${run.runUuid}`);
    }
  }

  /** InvalidInputError unless the run is active (not deleted). */
  assertActive(run: RunRow): void {
    if (run.lifecycleStage !== 'active') {
      throw new InvalidInputError(`the run ${run.runUuid} must be in the 'active' state; current state is ${run.lifecycleStage}`);
    }
  }

  private async publishFinished(run: RunRow): Promise<void> {
    const latest = await this.metrics.latest(run.runUuid);
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
}

import { Injectable, Logger } from '@nestjs/common';
import { EventBus } from '@mlops/bus';
import { FailedPreconditionError } from '@mlops/errors';
import { ModelAliases } from '../aliases/model-aliases';
import { ModelCatalog } from '../catalog/model-catalog';
import { assertServable } from '../catalog/servability';
import { ReleasePolicies } from '../policy/release-policies';
import { deploymentRequested, latencyValidation } from '../registry.events';
import { SERVICE } from '../registry.names';
import { ServingConflictError } from './serving-conflict';
import { ServingReports } from './serving-reports';

/** How a deployment takes traffic: all at once (full, blue-green: the old version kept warm for a rollback), a share (canary), a copy (shadow). */
export type Rollout = { strategy: 'full' | 'shadow' | 'blue-green' } | { strategy: 'canary'; share: number } | { strategy: 'ab'; share: number; labels?: number };

/** Deploying and promoting by hand (the lifecycle routes): the same events the gate and the canary verdicts send. */
@Injectable()
export class Deployments {
  private readonly log = new Logger(SERVICE);

  constructor(
    private readonly catalog: ModelCatalog,
    private readonly aliases: ModelAliases,
    private readonly reports: ServingReports,
    private readonly policies: ReleasePolicies,
    private readonly bus: EventBus,
  ) {}

  /** Publishes deployment.requested of a servable version; serving answers with deployment.completed. */
  async deploy(name: string, version: number, rollout: Rollout) {
    const row = await this.catalog.version(name, version);
    try {
      assertServable(row);
    } catch (error) {
      if (error instanceof FailedPreconditionError) throw new ServingConflictError(error.message);
      throw error;
    }
    // A deployment by hand starts its own correlation (the event's id), apart from any training loop.
    // Under the release policy in force now: serving times the version before routing it.
    const validation = latencyValidation(row, (await this.policies.inForce(row.name)).effective.latencyP99Ms);
    const event = deploymentRequested(row, {}, rollout, validation);
    await this.bus.publish(event);
    const share = 'share' in rollout ? rollout.share : rollout.strategy === 'shadow' ? 0 : 1;
    const labels = rollout.strategy === 'ab' ? rollout.labels : undefined;
    const detail = 'share' in rollout ? ` ${share}${labels ? `, decided after ${labels} labels a side` : ''}` : '';
    const checked = validation ? `; serving times it first, p99 bound ${validation.latencyP99Ms} ms` : '';
    this.log.log(`deployment of '${row.name}' version ${row.version} requested by hand: ${rollout.strategy}${detail}${checked} (correlation ${event.correlationId})`);
    return {
      model: row.name,
      version: row.version,
      strategy: rollout.strategy,
      share,
      ...(labels ? { labels } : {}),
      ...(validation ? { validation } : {}),
      correlationId: event.correlationId,
    };
  }

  /** Promotes a version serving has loaded; else ServingConflictError and nothing changes. */
  async promote(name: string, version: string, reason: string) {
    const row = await this.catalog.version(name, version);
    assertServable(row);
    await this.reports.assertLoaded(row.name, row.version);
    return this.aliases.promote(row.name, row.version, reason);
  }
}

import { Injectable, Logger } from '@nestjs/common';
import type { EventEnvelope } from '@mlops/contracts';
import { SERVICE } from '../registry.names';
import type { ServingStateRow } from '../store/entities';
import type { RegistryTx } from '../store/registry.transactions';
import { ServingStateRepository } from '../store/serving-state.repository';
import { ServingConflictError } from './serving-conflict';

/**
 * What serving runs, from its deployment.completed reports and the registry's own
 * model.promoted / model.rolled_back (applied as serving applies them, see serving's
 * DeploymentService): a promotion by hand is refused for a version serving has not loaded
 * (serving would only log "promoted but not loaded here" and keep answering with the old one).
 */
@Injectable()
export class ServingReports {
  private readonly log = new Logger(SERVICE);

  constructor(private readonly state: ServingStateRepository) {}

  async onDeployment(event: EventEnvelope<'deployment.completed'>): Promise<void> {
    const { model, version, status, trafficShare, error } = event.data;
    const now = Date.parse(event.time) || Date.now();
    // Older reports name no strategy: a partial share was a canary, all traffic a full rollout.
    const strategy = event.data.strategy ?? (trafficShare < 1 ? 'canary' : 'full');
    if (status === 'failed') {
      await this.state.record({ name: model, version, status, trafficShare: 0, strategy, mirrored: false, error: error ?? null, updatedAt: now });
      this.log.warn(`serving failed to deploy '${model}' version ${version}: ${error ?? 'no reason given'}`);
      return;
    }
    if (status === 'rejected') {
      // Never routed: the versions serving before keep their shares.
      const failing = (event.data.checks ?? []).filter((c) => !c.passed);
      const why = error ?? (failing.map((c) => `${c.name}: ${c.detail}`).join('; ') || 'no reason given');
      await this.state.record({ name: model, version, status, trafficShare: 0, strategy, mirrored: false, error: why, updatedAt: now });
      this.log.warn(`serving rejected '${model}' version ${version} before routing it: ${why}`);
      return;
    }
    const others = (await this.state.loaded([model])).filter((r) => r.version !== version);
    // A full rollout takes all traffic; a canary or shadow leaves the rest to the stable version
    // and replaces an earlier canary or shadow (serving unloads it). A model has one shadow at
    // most, and any deployment ends the earlier one's copy of the traffic.
    const stable = trafficShare < 1 ? others.reduce<ServingStateRow | undefined>((best, r) => (!best || r.trafficShare > best.trafficShare ? r : best), undefined) : undefined;
    for (const row of others) {
      if (row === stable) await this.state.record({ ...row, trafficShare: 1 - trafficShare, mirrored: false, updatedAt: now });
      else if (trafficShare < 1 && (row.trafficShare > 0 || row.mirrored)) await this.state.record({ ...row, status: 'unloaded', trafficShare: 0, mirrored: false, updatedAt: now });
      else await this.state.record({ ...row, trafficShare: 0, mirrored: false, updatedAt: now });
    }
    const mirrored = strategy === 'shadow' && trafficShare === 0;
    await this.state.record({ name: model, version, status, trafficShare, strategy, mirrored, error: null, updatedAt: now });
  }

  /** `version` takes all traffic if serving has it loaded (a promoted canary or shadow drains the old stable). */
  async onPromoted(model: string, version: number, tx?: RegistryTx): Promise<void> {
    const loaded = await this.state.loaded([model], tx);
    const promoted = loaded.find((r) => r.version === version);
    if (!promoted) return;
    const wasChallenger = (promoted.trafficShare > 0 && promoted.trafficShare < 1) || promoted.mirrored === true;
    for (const row of loaded) {
      if (row.version === version) await this.state.record({ ...row, trafficShare: 1, mirrored: false, updatedAt: Date.now() }, tx);
      else if (wasChallenger && row.trafficShare > 0) await this.state.record({ ...row, status: 'unloaded', trafficShare: 0, updatedAt: Date.now() }, tx);
      else if (row.trafficShare > 0) await this.state.record({ ...row, trafficShare: 0, updatedAt: Date.now() }, tx);
    }
  }

  /** A rolled-back canary or shadow (share below 1) is dropped (stable takes all); a rolled-back stable gives way to the restored version if loaded. */
  async onRolledBack(model: string, version: number, restored: number | undefined, tx?: RegistryTx): Promise<void> {
    const loaded = await this.state.loaded([model], tx);
    const rolled = loaded.find((r) => r.version === version);
    if (!rolled) return;
    const now = Date.now();
    if (rolled.trafficShare < 1) {
      await this.state.record({ ...rolled, status: 'unloaded', trafficShare: 0, mirrored: false, updatedAt: now }, tx);
      for (const row of loaded) if (row.version !== version && row.trafficShare > 0) await this.state.record({ ...row, trafficShare: 1, updatedAt: now }, tx);
      return;
    }
    const back = loaded.find((r) => r.version === restored);
    if (rolled.trafficShare === 1 && back) {
      await this.state.record({ ...rolled, trafficShare: 0, updatedAt: now }, tx);
      await this.state.record({ ...back, trafficShare: 1, updatedAt: now }, tx);
    }
  }

  /** Throws ServingConflictError, saying how to deploy it, unless serving reported the version loaded. */
  async assertLoaded(model: string, version: number): Promise<void> {
    const row = await this.state.find(model, version);
    if (row?.status === 'serving') return;
    const deploy = `POST /registry/models/${model}/deploy {"version":${version},"strategy":"full"}`;
    const why =
      row?.status === 'failed'
        ? `its last deployment failed (${row.error ?? 'no reason given'})`
        : row?.status === 'rejected'
          ? `serving rejected it before routing it (${row.error ?? 'no reason given'})`
          : 'it is not loaded by serving';
    throw new ServingConflictError(`version ${version} of model '${model}' cannot be promoted: ${why}; deploy it first: ${deploy}, then promote it once deployment.completed reports it serving`);
  }
}

import { Injectable, Logger } from '@nestjs/common';
import type { EventEnvelope } from '@mlops/contracts';
import { SERVICE } from '../registry.names';
import { ServingStateRepository } from '../store/serving-state.repository';
import { ServingConflictError } from './serving-conflict';

/**
 * What serving has loaded, from its deployment.completed reports: a promotion by hand is
 * refused for a version serving has not loaded (serving would only log "promoted but not
 * loaded here" and keep answering with the old version).
 */
@Injectable()
export class ServingReports {
  private readonly log = new Logger(SERVICE);

  constructor(private readonly state: ServingStateRepository) {}

  async onDeployment(event: EventEnvelope<'deployment.completed'>): Promise<void> {
    const { model, version, status, trafficShare, error } = event.data;
    await this.state.record({ name: model, version, status, trafficShare, error: error ?? null, updatedAt: Date.parse(event.time) || Date.now() });
    if (status === 'failed') this.log.warn(`serving failed to deploy '${model}' version ${version}: ${error ?? 'no reason given'}`);
  }

  /** Throws ServingConflictError, saying how to deploy it, unless serving reported the version loaded. */
  async assertLoaded(model: string, version: number): Promise<void> {
    const row = await this.state.find(model, version);
    if (row?.status === 'serving') return;
    const deploy = `POST /registry/models/${model}/deploy {"version":${version},"strategy":"full"}`;
    const why = row ? `its last deployment failed (${row.error ?? 'no reason given'})` : 'it is not loaded by serving';
    throw new ServingConflictError(`version ${version} of model '${model}' cannot be promoted: ${why}; deploy it first: ${deploy}, then promote it once deployment.completed reports it serving`);
  }
}

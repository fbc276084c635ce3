import { Injectable, Logger } from '@nestjs/common';
import { v5 as uuidv5 } from 'uuid';
import { causedBy, type EventEnvelope } from '@mlops/contracts';
import { NotFoundError } from '@mlops/errors';
import { ModelAliases } from '../aliases/model-aliases';
import { ServingReports } from '../deployments/serving-reports';
import { CHALLENGER, CHAMPION, SERVICE } from '../registry.names';

const EVENT_ID_NAMESPACE = 'c4e2a9b1-7d3f-4a6e-8b5c-2f1d0e9a8b7c';

/**
 * Acts on the monitor's canary verdicts and on first deployments:
 *  - canary.evaluated `promote` -> the version becomes champion (model.promoted, as promote() does);
 *  - canary.evaluated `rollback` -> model.rolled_back with the monitor's reason; the champion
 *    stays and the version loses `challenger` (serving drops the canary on that event);
 *  - deployment.completed (serving) of a model with no champion yet -> that version becomes
 *    champion: the first model has nothing to be compared with.
 * Idempotent: promotion is a no-op once the version is champion, and a redelivered rollback
 * verdict returns the same model.rolled_back (same event id), which consumers apply once.
 * Every event is returned, to be published with the verdict's ack (no write after the commit).
 */
@Injectable()
export class CanaryVerdicts {
  private readonly log = new Logger(SERVICE);

  constructor(
    private readonly aliases: ModelAliases,
    private readonly serving: ServingReports,
  ) {}

  /**
   * The first version serving a model with no champion becomes its champion; so does a
   * blue-green version once serving switched all traffic to it (a rollback then restores the
   * previous champion, which serving still holds warm).
   */
  async onDeployed(event: EventEnvelope<'deployment.completed'>): Promise<EventEnvelope<'model.promoted'> | undefined> {
    const { model, version, status, strategy } = event.data;
    if (status === 'rejected') {
      // Rejected by serving's checks before it took traffic: no longer the challenger.
      await this.dropChallenger(model, version);
      return undefined;
    }
    if (status !== 'serving') return undefined;
    const champion = await this.champion(model);
    const eventId = uuidv5(`${event.id}/model.promoted`, EVENT_ID_NAMESPACE);
    if (strategy === 'blue-green' && champion !== undefined && champion !== version) {
      const { event: promoted } = await this.aliases.recordPromotion(model, version, `blue-green switch from version ${champion}`, eventId);
      this.log.log(`model '${model}' version ${version} is champion: blue-green switched all traffic to it; version ${champion} kept warm for a rollback (POST /registry/models/${model}/rollback)`);
      return promoted;
    }
    if (champion !== undefined) return undefined;
    const { event: promoted } = await this.aliases.recordPromotion(model, version, 'first model: no champion to compare with', eventId);
    this.log.log(`model '${model}' version ${version} is champion: the first deployed version`);
    return promoted;
  }

  /** Promotes or rolls back the canary; returns model.rolled_back when the canary (not the champion) is dropped. */
  async onVerdict(event: EventEnvelope<'canary.evaluated'>): Promise<EventEnvelope<'model.rolled_back' | 'model.promoted'> | undefined> {
    const { model, version, verdict, reason } = event.data;
    const champion = await this.champion(model);
    if (champion !== undefined && champion > version) {
      this.log.warn(`canary verdict '${verdict}' for '${model}' version ${version} ignored: version ${champion} is already champion`);
      return undefined;
    }
    const kind = event.data.strategy ?? 'canary';
    if (verdict === 'promote') {
      // Published with the verdict's ack: a redelivery (the broker went away after the
      // promotion was recorded) publishes it again under the same id rather than losing it.
      const { event: promoted } = await this.aliases.recordPromotion(model, version, `${kind} promoted: ${reason}`, uuidv5(`${event.id}/model.promoted`, EVENT_ID_NAMESPACE));
      this.log.log(`model '${model}' ${kind} version ${version} promoted to champion (${reason})`);
      return promoted;
    }
    const rolledBackId = uuidv5(`${event.id}/model.rolled_back`, EVENT_ID_NAMESPACE);
    if (champion === version) {
      // The verdict came after the version became champion: restore the one before it. Published
      // with the ack; a redelivery finds the version no longer champion and takes the path below,
      // which returns the same event id.
      const { event: rolledBack } = await this.aliases.recordRollback(model, `${kind} rolled back: ${reason}`, rolledBackId);
      this.log.log(`model '${model}' ${kind} version ${version} rolled back after it became champion (${reason}); champion restored to ${rolledBack.data.restoredVersion ?? 'unset'}`);
      return rolledBack;
    }
    await this.dropChallenger(model, version);
    await this.serving.onRolledBack(model, version, champion);
    const rolledBack = causedBy(event, 'model.rolled_back', {
      id: rolledBackId,
      source: SERVICE,
      subject: model,
      data: { model, version, restoredVersion: champion, reason },
    });
    this.log.log(`model '${model}' ${kind} version ${version} ${kind === 'shadow' ? 'dropped' : 'rolled back'} (${reason}); champion stays ${champion ?? 'unset'}`);
    return rolledBack;
  }

  private async champion(model: string): Promise<number | undefined> {
    try {
      return Number((await this.aliases.getByAlias(model, CHAMPION)).version);
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
  }

  private async dropChallenger(model: string, version: number): Promise<void> {
    try {
      const challenger = await this.aliases.getByAlias(model, CHALLENGER);
      if (Number(challenger.version) === version) await this.aliases.deleteAlias(model, CHALLENGER);
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
  }
}

import { Injectable } from '@nestjs/common';
import { EventBus } from '@mlops/bus';
import { createEvent } from '@mlops/contracts';
import { InvalidInputError, NotFoundError } from '@mlops/errors';
import { ModelCatalog } from '../catalog/model-catalog';
import { ServingReports } from '../deployments/serving-reports';
import { validAlias } from '../catalog/names';
import { assertServable } from '../catalog/servability';
import { CHALLENGER, CHAMPION, SERVICE } from '../registry.names';
import { AliasRepository } from '../store/alias.repository';
import type { AliasRow, ModelVersionRow } from '../store/entities';
import { ModelVersionRepository } from '../store/model-version.repository';
import { RegistryTransactions, type RegistryTx } from '../store/registry.transactions';

/**
 * Aliases (the one owner of registry_aliases and the champion history): `champion` moves by
 * promotion and rollback, which publish model.promoted / model.rolled_back; `challenger` is
 * set by the quality gate; other aliases are set and deleted as in MLflow.
 */
@Injectable()
export class ModelAliases {
  constructor(
    private readonly catalog: ModelCatalog,
    private readonly aliases: AliasRepository,
    private readonly versions: ModelVersionRepository,
    private readonly transactions: RegistryTransactions,
    private readonly bus: EventBus,
    private readonly serving: ServingReports,
  ) {}

  async setAlias(nameValue: unknown, aliasValue: unknown, versionValue: unknown): Promise<void> {
    const alias = validAlias(aliasValue);
    if (alias === CHAMPION) {
      await this.promote(nameValue, versionValue, 'set via registered-models/alias');
      return;
    }
    const row = await this.catalog.version(nameValue, versionValue);
    await this.aliases.set({ name: row.name, alias, version: row.version });
  }

  async deleteAlias(nameValue: unknown, aliasValue: unknown): Promise<void> {
    const model = await this.catalog.model(nameValue);
    if (!(await this.aliases.delete(model.name, validAlias(aliasValue)))) throw new NotFoundError(`Registered model alias ${String(aliasValue)} not found.`);
  }

  async getByAlias(nameValue: unknown, aliasValue: unknown) {
    const model = await this.catalog.model(nameValue);
    const alias = await this.aliases.find(model.name, validAlias(aliasValue));
    if (!alias) throw new NotFoundError(`Registered model alias ${String(aliasValue)} not found.`);
    return this.catalog.getVersion(model.name, alias.version);
  }

  /** Moves `champion` to a version (and off `challenger`); publishes model.promoted. */
  async promote(nameValue: unknown, versionValue: unknown, reason = 'promoted') {
    const { answer, event } = await this.recordPromotion(nameValue, versionValue, reason);
    if (answer.changed) await this.bus.publish(event);
    return answer;
  }

  /**
   * The promotion recorded, and its model.promoted (under `eventId`) for the caller to publish
   * with a consumer's ack. Built even when the version already is champion: a consumer whose
   * earlier attempt recorded the promotion but could not publish (the broker went away between
   * the two) publishes it on redelivery, under the same id, instead of losing it.
   */
  async recordPromotion(nameValue: unknown, versionValue: unknown, reason: string, eventId?: string) {
    const result = await this.transactions.run(async (tx) => {
      const row = await this.catalog.version(nameValue, versionValue, tx);
      assertServable(row);
      const current = await this.aliases.find(row.name, CHAMPION, tx);
      if (current?.version === row.version) {
        const last = await this.aliases.lastPromotion(tx, row.name);
        return { row, previous: last?.version === row.version ? (last.previousVersion ?? undefined) : undefined, changed: false };
      }
      await this.aliases.set({ name: row.name, alias: CHAMPION, version: row.version }, tx);
      await this.aliases.deleteAt(tx, row.name, CHALLENGER, row.version);
      await this.aliases.recordPromotion(tx, {
        name: row.name,
        version: row.version,
        previousVersion: current?.version ?? null,
        reason,
        rolledBack: false,
        changedAt: Date.now(),
      });
      await this.serving.onPromoted(row.name, row.version, tx);
      return { row, previous: current?.version, changed: true };
    });
    const event = createEvent('model.promoted', {
      ...(eventId ? { id: eventId } : {}),
      source: SERVICE,
      subject: result.row.name,
      correlationId: result.row.correlationId ?? undefined,
      data: { model: result.row.name, version: result.row.version, alias: CHAMPION, previousVersion: result.previous },
    });
    return { answer: { model: result.row.name, champion: result.row.version, previous_version: result.previous ?? null, changed: result.changed }, event };
  }

  /** Restores the champion before the latest promotion; publishes model.rolled_back. */
  async rollback(nameValue: unknown, reasonValue: unknown) {
    const { answer, event } = await this.recordRollback(nameValue, reasonValue);
    await this.bus.publish(event);
    return answer;
  }

  /**
   * The rollback recorded, and its model.rolled_back (under `eventId`) for the caller to publish
   * with a consumer's ack, as recordPromotion does for model.promoted.
   */
  async recordRollback(nameValue: unknown, reasonValue: unknown, eventId?: string) {
    if (typeof reasonValue !== 'string' || !reasonValue.trim()) throw new InvalidInputError("Missing value for required parameter 'reason'.");
    const reason = reasonValue.trim();
    const result = await this.transactions.run(async (tx) => {
      const model = await this.catalog.model(nameValue, tx);
      const last = await this.aliases.lastPromotion(tx, model.name);
      if (!last) throw new InvalidInputError(`model "${model.name}" has no promotion to roll back`);
      if (last.previousVersion === null) await this.aliases.delete(model.name, CHAMPION, tx);
      else await this.aliases.set({ name: model.name, alias: CHAMPION, version: last.previousVersion }, tx);
      await this.aliases.markRolledBack(tx, last);
      await this.serving.onRolledBack(model.name, last.version, last.previousVersion ?? undefined, tx);
      const rolled = await this.versions.find(model.name, last.version, tx);
      return { model: model.name, version: last.version, restored: last.previousVersion ?? undefined, correlationId: rolled?.correlationId ?? undefined };
    });
    const event = createEvent('model.rolled_back', {
      ...(eventId ? { id: eventId } : {}),
      source: SERVICE,
      subject: result.model,
      correlationId: result.correlationId,
      data: { model: result.model, version: result.version, restoredVersion: result.restored, reason },
    });
    return { answer: { model: result.model, rolled_back_version: result.version, champion: result.restored ?? null }, event };
  }

  /** The champion version's row, or null when the model has no champion. */
  async champion(name: string): Promise<ModelVersionRow | null> {
    const alias = await this.aliases.find(name, CHAMPION);
    return alias ? this.catalog.version(name, alias.version) : null;
  }

  /**
   * The champion alias inside `tx`; on Postgres its row stays locked until `tx` ends, so a
   * promotion waits for the gate decision made against it.
   */
  championForUpdate(tx: RegistryTx, name: string): Promise<AliasRow | null> {
    return this.aliases.findForUpdate(tx, name, CHAMPION);
  }

  /** `challenger` to a version that passed the gate. */
  async setChallenger(tx: RegistryTx, name: string, version: number): Promise<void> {
    await this.aliases.set({ name, alias: CHALLENGER, version }, tx);
  }
}

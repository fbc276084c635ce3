import { Inject, Injectable } from '@nestjs/common';
import { v5 as uuidv5 } from 'uuid';
import type { AnyEvent, EventEnvelope } from '@mlops/contracts';
import { ModelFeatureViews } from '../feature-views/model-feature-views';
import type { AfterCommit } from '../lifecycle/loop-closer';
import { SERVICE } from '../loop.names';
import { LOOP_LOG, LOOP_SETTINGS, type LoopLog, type LoopSettings } from '../loop.settings';
import { LoopRepository, type LoopTx } from '../store/loop.repository';
import { LoopOpener } from './loop-opener';
import { TriggersRepository } from '../store/triggers.repository';

/** The consumer name the counted data.validated event ids are kept under. */
const CONSUMER = 'loop.new-data';
const NAMESPACE = '9d4e2f61-0c3b-4a7e-8b15-6f2a9c0d7e31';

/**
 * The new-data trigger: counts data.validated rows of each model's feature view source (the
 * model's view from LOOP_FEATURE_VIEWS, the view's source from LOOP_VIEW_SOURCES) since the
 * model's last training dataset; at newData.rows it opens a loop and starts again from 0. The
 * counts and the ids of the counted events commit in one transaction, so a redelivered batch
 * (after a crash, a rebalance or a restart) is not counted twice and nothing counted is lost.
 */
@Injectable()
export class NewDataCounter {
  constructor(
    private readonly loops: LoopRepository,
    private readonly triggers: TriggersRepository,
    private readonly opener: LoopOpener,
    private readonly featureViews: ModelFeatureViews,
    @Inject(LOOP_SETTINGS) private readonly settings: LoopSettings,
    @Inject(LOOP_LOG) private readonly log: LoopLog,
  ) {}

  /** The models whose new-data trigger counts rows of `source`, with their threshold. */
  private async watchers(): Promise<Map<string, { model: string; rows: number }[]>> {
    const bySource = new Map<string, { model: string; rows: number }[]>();
    for (const row of await this.triggers.all()) {
      if (row.newDataRows === null) continue;
      const { featureView: view } = await this.featureViews.of(row.model);
      const source = view && this.settings.triggers.sourceOf(view);
      if (!source) continue;
      bySource.set(source, [...(bySource.get(source) ?? []), { model: row.model, rows: row.newDataRows }]);
    }
    return bySource;
  }

  /** Counts a batch of data.validated; returns the retrain.requested of the loops it opened. */
  async count(events: EventEnvelope<'data.validated'>[]): Promise<AnyEvent[]> {
    const watchers = await this.watchers();
    const relevant = events.filter((e) => watchers.has(e.data.source));
    if (relevant.length === 0) return [];
    const committed: AfterCommit = [];
    const retrains = await this.loops.transaction(async (tx) => {
      const fresh = await this.unseen(tx, relevant);
      if (fresh.length === 0) return [];
      const perSource = new Map<string, number>();
      for (const e of fresh) perSource.set(e.data.source, (perSource.get(e.data.source) ?? 0) + 1);
      const last = fresh[fresh.length - 1]!;
      const out: AnyEvent[] = [];
      for (const [source, added] of perSource) {
        for (const watcher of watchers.get(source)!) out.push(...(await this.add(tx, watcher, source, added, last, committed)));
      }
      return out;
    });
    committed.forEach((after) => after());
    return retrains;
  }

  /** Restarts the model's count: a training dataset of it was materialized. */
  async reset(tx: LoopTx, model: string, at: number, datasetId: string, committed: AfterCommit): Promise<void> {
    const [count] = await this.triggers.counts(tx, [model]);
    if (!count) return;
    await this.triggers.saveCount(tx, { model, rows: 0, since: at });
    if (count.rows > 0) committed.push(() => this.log.log(`new-data count of ${model} restarts at 0 (was ${count.rows}): dataset ${datasetId} was materialized for it`));
  }

  /** The events not counted before, recorded as counted. */
  private async unseen(tx: LoopTx, events: EventEnvelope<'data.validated'>[]): Promise<EventEnvelope<'data.validated'>[]> {
    const seen = await this.triggers.countedAlready(tx, CONSUMER, [...new Set(events.map((e) => e.id))]);
    const fresh: EventEnvelope<'data.validated'>[] = [];
    for (const e of events) {
      if (seen.has(e.id)) continue;
      seen.add(e.id);
      fresh.push(e);
    }
    await this.triggers.markCounted(tx, CONSUMER, fresh.map((e) => e.id));
    return fresh;
  }

  private async add(
    tx: LoopTx,
    watcher: { model: string; rows: number },
    source: string,
    added: number,
    last: EventEnvelope<'data.validated'>,
    committed: AfterCommit,
  ): Promise<AnyEvent[]> {
    const { model } = watcher;
    const at = Date.parse(last.time);
    // An atomic increment: another instance counting other partitions waits on the row until this commits.
    const rows = await this.triggers.addRows(tx, model, added, at);
    if (rows < watcher.rows) return [];
    await this.triggers.saveCount(tx, { model, rows: 0, since: at });
    const reason = `${rows} new validated rows of ${source} since the last training dataset (the new-data trigger opens a loop at ${watcher.rows})`;
    const decision = await this.opener.open(
      tx,
      {
        model,
        trigger: 'new_data',
        correlationId: uuidv5(`${last.id}/new_data/${model}`, NAMESPACE),
        triggerEventId: `new_data:${model}:${last.id}`,
        at,
        version: null,
        driftedFeatures: [],
        reason,
        stage: (correlationId, extra) => ({
          correlationId,
          type: 'trigger.new_data',
          eventId: last.id,
          source: SERVICE,
          at,
          facts: JSON.stringify({ source, rows, threshold: watcher.rows }),
          ignored: extra?.ignored ?? false,
          note: extra?.note ?? null,
        }),
      },
      committed,
    );
    if (!decision.opened) committed.push(() => this.log.log(`new-data count of ${model} restarts at 0 although no loop opened (${decision.reason})`));
    return decision.opened && decision.retrain ? [decision.retrain] : [];
  }
}

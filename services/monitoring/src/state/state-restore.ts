import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { AnyEvent } from '@mlops/contracts';
import { Canaries } from '../canary/canaries';
import { Champions } from '../canary/champions';
import { VersionPerformance } from '../performance/version-performance';
import { LineageFacts } from '../references/lineage-facts';
import { ReferenceResolver } from '../references/reference-resolver';
import { MonitoringRepository } from '../store/monitoring.repository';
import { Cooldowns } from './cooldowns';
import { Outbox } from './outbox';
import { WriteLane } from './write-lane';

/**
 * At start (before the HTTP server and the bus consumers): reloads everything stored into its
 * owner (references rebuilt, lineage, champions, canaries, aggregates, cooldowns), resends
 * the outbox and retries the references still waiting for lineage.
 */
@Injectable()
export class StateRestore implements OnApplicationBootstrap {
  constructor(
    private readonly store: MonitoringRepository,
    private readonly lineage: LineageFacts,
    private readonly champions: Champions,
    private readonly performance: VersionPerformance,
    private readonly cooldowns: Cooldowns,
    private readonly references: ReferenceResolver,
    private readonly canaries: Canaries,
    private readonly outbox: Outbox,
    private readonly lane: WriteLane,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const stored = await this.store.load();
    this.lineage.restore(stored);
    this.champions.restore(stored.champions);
    this.performance.restore(stored.performance);
    this.cooldowns.restore(stored.cooldowns);
    this.references.restore(stored.references);
    this.canaries.restore(stored.canaries);
    this.performance.exportAll(stored.performance);
    if (stored.outbox.length > 0) await this.outbox.send(stored.outbox.map((o) => JSON.parse(o.event) as AnyEvent));
    await this.lane.run(() => this.references.resolveWaiting());
  }
}

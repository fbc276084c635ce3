import { Injectable } from '@nestjs/common';
import { Canaries } from '../canary/canaries';
import { Champions } from '../canary/champions';
import { DriftWatch } from '../drift/drift-watch';
import { LabelJoin } from '../performance/label-join';
import { VersionPerformance } from '../performance/version-performance';
import { LineageFacts } from '../references/lineage-facts';
import { ReferenceResolver } from '../references/reference-resolver';
import type { CanaryRow } from '../store/entities';

/** What the monitor knows, for GET /models/:model/status and GET /status. */
@Injectable()
export class MonitoringStatus {
  constructor(
    private readonly references: ReferenceResolver,
    private readonly performance: VersionPerformance,
    private readonly lineage: LineageFacts,
    private readonly canaries: Canaries,
    private readonly champions: Champions,
    private readonly drift: DriftWatch,
    private readonly labels: LabelJoin,
  ) {}

  /** `model\0version` of every version something is known about. */
  private *versionKeys(): Generator<string> {
    yield* this.references.rows().keys();
    yield* this.performance.keys();
    yield* this.lineage.versionKeys();
    yield* this.canaries.all().keys();
  }

  private canaryJson(row: CanaryRow) {
    // eslint-disable-next-line @typescript-eslint/no-unused-vars
    const { comparison, verdict, ...rest } = row;
    const live = this.canaries.liveOf(row.model);
    const current = live?.row.version === row.version ? live : undefined;
    return {
      ...rest,
      predictions: current?.row.predictions ?? row.predictions,
      labels: current ? { canary: current.canary.labels, champion: current.champion.labels } : undefined,
      // A shadow's agreement with the champion so far, an A/B test's labels per side.
      ...(current?.shadow ? { strategy: 'shadow', agreement: { ...current.shadow } } : {}),
      ...(current?.ab ? { strategy: 'ab', labelsNeeded: current.ab.labels } : {}),
      verdict: verdict ? JSON.parse(verdict) : null,
    };
  }

  /** Everything the monitor knows about a model: champion, canaries, per version reference and performance. */
  modelStatus(model: string) {
    const versions = new Set<number>();
    for (const key of this.versionKeys()) {
      const [m, v] = key.split('\u0000');
      if (m === model) versions.add(Number(v));
    }
    const live = this.canaries.liveOf(model);
    return {
      model,
      champion: this.champions.of(model) ?? null,
      canary: live ? this.canaryJson(live.row) : null,
      canaries: [...this.canaries.all().values()].filter((c) => c.model === model).map((c) => this.canaryJson(c)),
      versions: [...versions].sort((a, b) => a - b).map((version) => {
        const reference = this.references.of(model, version);
        return {
          version,
          reference: reference
            ? { status: reference.status, source: reference.source, datasetId: reference.datasetId, problem: reference.problem, updatedAt: new Date(reference.updatedAt).toISOString() }
            : { status: this.drift.hasReference(model, version) ? 'ready' : 'none' },
          performance: this.performance.performanceOf(model, version),
        };
      }),
    };
  }

  status() {
    const models = new Set<string>();
    for (const key of this.versionKeys()) models.add(key.split('\u0000')[0]);
    for (const model of this.champions.models()) models.add(model);
    const { pending, early, unmatchedLabels } = this.labels;
    return {
      models: [...models].sort(),
      labels: { pendingPredictions: pending.size, evictedUnlabelled: pending.evictedUnlabelled, unmatched: unmatchedLabels + early.expired, waitingForPrediction: early.size },
      referenceProblems: [...this.references.rows().values()]
        .filter((r) => r.status !== 'ready')
        .map((r) => ({ model: r.model, version: r.version, status: r.status, problem: r.problem })),
    };
  }
}

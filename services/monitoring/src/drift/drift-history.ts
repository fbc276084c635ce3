import { Inject, Injectable } from '@nestjs/common';
import { z } from 'zod';
import { invalidRequest } from '../invalid-request';
import { MONITORING_SETTINGS, type MonitoringSettings } from '../monitoring.settings';
import { WriteLane } from '../state/write-lane';
import type { DriftWindowRow } from '../store/entities';
import { MonitoringRepository } from '../store/monitoring.repository';
import type { WindowResult } from './drift-watch';

const historyQuery = z
  .object({
    version: z.coerce.number().int().positive().optional(),
    feature: z.string().min(1).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    page_token: z
      .string()
      .regex(/^[1-9]\d*$/, 'expected the next_page_token of the previous page')
      .transform(Number)
      .optional(),
  })
  .strict();

/** A feature's drift in a stored window. */
export interface StoredFeatureDrift {
  feature: string;
  statistic: string;
  value: number;
  threshold: number;
  drifted: boolean;
}

export interface DriftHistoryPage {
  model: string;
  /** Newest first. */
  windows: {
    version: number;
    window: { start: string; end: string; size: number };
    evaluatedAt: string;
    datasetDrift: { share: number; threshold: number; drifted: boolean };
    features: StoredFeatureDrift[];
  }[];
  next_page_token?: string;
}

/**
 * Every evaluated drift window, kept in the monitor's store (the newest
 * MONITORING_DRIFT_HISTORY_WINDOWS of each version): the drift of each feature over time (the
 * statistic and its threshold per window), read a page at a time, newest first.
 */
@Injectable()
export class DriftHistory {
  constructor(
    private readonly store: MonitoringRepository,
    private readonly lane: WriteLane,
    @Inject(MONITORING_SETTINGS) private readonly settings: MonitoringSettings,
  ) {}

  record(result: WindowResult): Promise<void> {
    const { report } = result;
    const row: DriftWindowRow = {
      model: result.model,
      version: result.version,
      windowStart: result.window.start,
      windowEnd: result.window.end,
      size: result.window.size,
      evaluatedAt: Date.parse(result.evaluatedAt),
      datasetShare: report.datasetDrift.share,
      datasetThreshold: report.datasetDrift.threshold,
      datasetDrifted: report.datasetDrift.drifted,
      // JSON has no Infinity: as in drift.detected, an infinite distance is kept as the largest double.
      features: JSON.stringify(report.features.map(({ feature, statistic, value, threshold, drifted }) => ({ feature, statistic, value: Number.isFinite(value) ? value : Number.MAX_VALUE, threshold, drifted }))),
    };
    return this.lane.run(() =>
      this.store.transaction(async (tx) => {
        await tx.saveDriftWindow(row);
        await tx.pruneDriftWindows(row.model, row.version, this.settings.drift.historyWindows);
      }),
    );
  }

  /** GET /models/:model/drift/history?version=&feature=&limit=&page_token= */
  async history(model: string, query: unknown): Promise<DriftHistoryPage> {
    const parsed = historyQuery.safeParse(query);
    if (!parsed.success) throw invalidRequest(parsed.error.issues.map((i) => ({ field: i.path.join('.') || '(query)', message: i.message })));
    const { version, feature, limit, page_token } = parsed.data;
    // One more than asked: whether a next page exists.
    const rows = await this.store.driftWindows(model, { version, before: page_token, limit: limit + 1 });
    const page = rows.slice(0, limit);
    return {
      model,
      windows: page.map((row) => ({
        version: row.version,
        window: { start: row.windowStart, end: row.windowEnd, size: row.size },
        evaluatedAt: new Date(row.evaluatedAt).toISOString(),
        datasetDrift: { share: row.datasetShare, threshold: row.datasetThreshold, drifted: row.datasetDrifted },
        features: (JSON.parse(row.features) as StoredFeatureDrift[]).filter((f) => feature === undefined || f.feature === feature),
      })),
      ...(rows.length > limit ? { next_page_token: String(page[page.length - 1].id) } : {}),
    };
  }
}

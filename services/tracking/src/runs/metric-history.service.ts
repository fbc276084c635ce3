import { Injectable } from '@nestjs/common';
import { InvalidInputError } from '@mlops/errors';
import { decodeToken, encodeToken } from '../search/page-token';
import type { MetricRow } from '../store/entities';
import { MetricRepository } from '../store/metric.repository';
import { RunService } from './run.service';

/** Rows per history page at most, whatever max_results asks for. */
const MAX_HISTORY_PAGE = 25_000;

/** Every value a run logged for one metric (metrics/get-history), in pages. */
@Injectable()
export class MetricHistoryService {
  constructor(
    private readonly runs: RunService,
    private readonly metrics: MetricRepository,
  ) {}

  async metricHistory(runId: unknown, key: unknown, maxResults?: number, pageToken?: string): Promise<{ metrics: MetricRow[]; nextPageToken?: string }> {
    const run = await this.runs.requireRun(runId);
    if (typeof key !== 'string' || !key) throw new InvalidInputError('metric_key is required');
    const offset = decodeToken(pageToken);
    const take = maxResults ? Math.min(maxResults, MAX_HISTORY_PAGE) : undefined;
    // One row more than the page tells whether there is a next one.
    const rows = await this.metrics.history(run.runUuid, key, { skip: offset, take: take === undefined ? undefined : take + 1 });
    const more = take !== undefined && rows.length > take;
    return {
      metrics: more ? rows.slice(0, take) : rows,
      ...(more ? { nextPageToken: encodeToken(offset + take!) } : {}),
    };
  }
}

import { Injectable } from '@nestjs/common';
import { InvalidInputError } from '@mlops/errors';
import { parseExperimentId } from '../experiments/experiment';
import type { RunWithData } from '../runs/run';
import { LIMITS } from '../runs/run-input';
import { RunSearchRepository } from '../store/run-search.repository';
import { RunRepository } from '../store/run.repository';
import { decodeToken, encodeToken } from './page-token';
import { parseFilter, parseOrderBy } from './search-filter';
import { stageFilter } from './view-type';

/** runs/search: MLflow's filter and order_by over runs of the given experiments, in pages. */
@Injectable()
export class RunSearchService {
  constructor(
    private readonly search: RunSearchRepository,
    private readonly runs: RunRepository,
  ) {}

  async searchRuns(input: {
    experimentIds: unknown[];
    filter?: string;
    viewType?: unknown;
    maxResults?: number;
    orderBy?: string[];
    pageToken?: string;
  }): Promise<{ runs: RunWithData[]; nextPageToken?: string }> {
    const filter = parseFilter(input.filter);
    const orderBy = parseOrderBy(input.orderBy);
    const max = input.maxResults ?? LIMITS.defaultSearchResults;
    if (!Number.isInteger(max) || max < 1 || max > LIMITS.maxSearchResults) {
      throw new InvalidInputError(`Invalid value ${max} for parameter 'max_results' supplied. It must be at most ${LIMITS.maxSearchResults}`);
    }
    const offset = decodeToken(input.pageToken);
    const experimentIds = input.experimentIds.map((id) => parseExperimentId(id));
    if (experimentIds.length === 0) return { runs: [] };
    const stage = stageFilter(input.viewType);
    // One run more than the page tells whether there is a next one.
    const ids = await this.search.findRunIds({ experimentIds, stage, filter, orderBy, limit: max + 1, offset });
    const more = ids.length > max;
    const runs = await this.runs.findWithData(more ? ids.slice(0, max) : ids);
    return { runs, ...(more ? { nextPageToken: encodeToken(offset + max) } : {}) };
  }
}

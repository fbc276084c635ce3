import { Injectable } from '@nestjs/common';
import { InvalidInputError } from '@mlops/errors';
import { stageOf } from '../aliases/stages';
import { failedChecksOf, pendingChecksOf } from '../gate/policy-checks';
import { CHAMPION } from '../registry.names';
import { OverviewRepository } from '../store/overview.repository';
import { ServingStateRepository } from '../store/serving-state.repository';
import { ModelCatalog } from './model-catalog';

/** A keyset page token: base64url JSON of the last row's key. */
function tokenOf(key: string | number): string {
  return Buffer.from(JSON.stringify({ after: key })).toString('base64url');
}

function keyOf<T extends string | number>(token: string | undefined, type: 'string' | 'number'): T | undefined {
  if (token === undefined) return undefined;
  let key: unknown;
  try {
    key = (JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { after?: unknown }).after;
  } catch {
    key = undefined;
  }
  if (typeof key !== type) throw InvalidInputError.of([{ field: 'page_token', message: `invalid page_token ${JSON.stringify(token)}: pass next_page_token of the previous page` }]);
  return key as T;
}

/**
 * The lifecycle's listings (GET /models, GET /models/:name, GET /models/:name/versions): models with their
 * champion, version count and what serving runs; versions newest first with aliases, stage
 * and gate. Paged in the database by key (model name; version number).
 */
@Injectable()
export class ModelOverview {
  constructor(
    private readonly pages: OverviewRepository,
    private readonly catalog: ModelCatalog,
    private readonly serving: ServingStateRepository,
  ) {}

  async models(maxResults: number, pageToken?: string) {
    const after = keyOf<string>(pageToken, 'string');
    const rows = await this.pages.modelsAfter(after, maxResults + 1);
    const page = rows.slice(0, maxResults);
    return {
      models: await this.summaries(page),
      ...(rows.length > maxResults ? { next_page_token: tokenOf(page[page.length - 1].name) } : {}),
    };
  }

  /** One model as GET /models lists it (404 for an unknown one). */
  async model(name: string) {
    const [summary] = await this.summaries([await this.catalog.model(name)]);
    return summary;
  }

  private async summaries(rows: { name: string; lastUpdatedTime: number }[]) {
    const names = rows.map((r) => r.name);
    const [champions, counts, serving] = await Promise.all([this.pages.aliasOf(names, CHAMPION), this.pages.versionCounts(names), this.serving.loaded(names)]);
    return rows.map((r) => ({
      name: r.name,
      champion: champions.find((a) => a.name === r.name)?.version ?? null,
      versions: counts.get(r.name) ?? 0,
      serving: serving
        .filter((s) => s.name === r.name && (s.trafficShare > 0 || s.mirrored))
        .map((s) => ({ version: s.version, share: s.trafficShare, strategy: s.strategy, ...(s.mirrored ? { shadow: true } : {}) })),
      updatedAt: new Date(r.lastUpdatedTime).toISOString(),
    }));
  }

  async versions(name: string, maxResults: number, pageToken?: string) {
    const model = await this.catalog.model(name);
    const before = keyOf<number>(pageToken, 'number');
    const rows = await this.pages.versionsBefore(model.name, before, maxResults + 1);
    const page = rows.slice(0, maxResults);
    const versions = page.map((r) => r.version);
    const [aliases, gates, served] = await Promise.all([
      this.pages.aliasesOfVersions(model.name, versions),
      this.pages.gatesOfVersions(model.name, versions),
      this.serving.ofVersions(model.name, versions),
    ]);
    return {
      versions: page.map((r) => {
        const names = aliases.filter((a) => a.version === r.version).map((a) => a.alias);
        const gate = gates.find((g) => g.version === r.version);
        const state = served.find((s) => s.version === r.version);
        return {
          version: r.version,
          status: r.status,
          aliases: names,
          stage: stageOf(names),
          gate: gate
            ? { passed: gate.passed, metric: gate.metric, candidateScore: gate.candidateScore, championScore: gate.championScore, reason: gate.reason, failedChecks: failedChecksOf(gate), pendingChecks: pendingChecksOf(gate) }
            : null,
          /** serving's last report: serving (with its share), failed, rejected (by its warm-up checks, never routed) or unloaded; null: never deployed. */
          serving: state ? { status: state.status, share: state.trafficShare, strategy: state.strategy, error: state.error } : null,
          runId: r.runId,
          datasetHash: r.datasetHash,
          createdAt: new Date(r.creationTime).toISOString(),
        };
      }),
      ...(rows.length > maxResults ? { next_page_token: tokenOf(page[page.length - 1].version) } : {}),
    };
  }
}

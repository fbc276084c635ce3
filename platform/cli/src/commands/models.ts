import type { Context } from '../context';
import { table } from '../table';

interface ModelSummary {
  name: string;
  champion: number | null;
  versions: number;
  /** `shadow`: the running shadow (share 0: a copy of every request, answers none). */
  serving: { version: number; share: number; strategy?: string | null; shadow?: boolean }[];
  updatedAt: string;
}
interface Version {
  version: number;
  status: string;
  aliases: string[];
  stage?: string;
  gate?: unknown;
  /** serving's last report (null: never deployed); `rejected`: its warm-up checks failed, it never took traffic. */
  serving?: { status: string; share: number } | null;
  runId?: string;
  datasetHash?: string;
  createdAt: string;
}

/** Every page of a registry list (`next_page_token` -> `?page_token=`). */
async function all<T>(ctx: Context, path: string, key: string): Promise<T[]> {
  const items: T[] = [];
  let token: string | undefined;
  do {
    const page = await ctx.client.get<Record<string, unknown>>(`${path}${token ? `?page_token=${encodeURIComponent(token)}` : ''}`);
    items.push(...((page[key] as T[]) ?? []));
    token = page.next_page_token as string | undefined;
  } while (token);
  return items;
}

const gateText = (gate: unknown): string => {
  if (!gate || typeof gate !== 'object') return '-';
  const g = gate as { passed?: boolean; decision?: string; pendingChecks?: string[] | null };
  const text = g.decision ?? (g.passed === undefined ? '-' : g.passed ? 'passed' : 'failed');
  return g.passed && g.pendingChecks?.length ? `${text} (${g.pendingChecks.join(',')} pending)` : text;
};

/** A version's serving state: `serving 10%`, `rejected`, `failed`, `unloaded`, or `-` when never deployed. */
const versionServingText = (serving: Version['serving']) => (!serving ? '-' : serving.status === 'serving' ? `serving ${Math.round(serving.share * 100)}%` : serving.status);

/** Each serving version's share and the strategy it was deployed with: `v1 90% full, v2 10% canary`; the running shadow as `v3 shadow`. */
const servingText = (serving: ModelSummary['serving']) =>
  serving.map((s) => (s.shadow ? `v${s.version} shadow` : `v${s.version} ${Math.round(s.share * 100)}%${s.strategy ? ` ${s.strategy}` : ''}`)).join(', ') || '-';

/** `mlops models [name]`: the models, or one model's versions. */
export async function models(ctx: Context, name: string | undefined): Promise<number> {
  if (!name) {
    const list = await all<ModelSummary>(ctx, '/registry/models', 'models');
    ctx.result(
      { models: list },
      list.length === 0
        ? ['no models yet (train one: `mlops train <model> -f <project>`)']
        : table([['NAME', 'CHAMPION', 'VERSIONS', 'SERVING', 'UPDATED'], ...list.map((m) => [m.name, m.champion ? `v${m.champion}` : '-', String(m.versions), servingText(m.serving), m.updatedAt])]),
    );
    return 0;
  }
  const versions = await all<Version>(ctx, `/registry/models/${encodeURIComponent(name)}/versions`, 'versions');
  ctx.result(
    { model: name, versions },
    table([
      ['VERSION', 'STATUS', 'ALIASES', 'GATE', 'SERVING', 'RUN', 'DATASET', 'CREATED'],
      ...versions.map((v) => [
        `v${v.version}`,
        v.status,
        v.aliases.join(',') || '-',
        gateText(v.gate),
        versionServingText(v.serving),
        v.runId?.slice(0, 8) ?? '-',
        v.datasetHash?.slice(0, 12) ?? '-',
        v.createdAt,
      ]),
    ]),
  );
  return 0;
}

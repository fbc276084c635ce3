import { setTimeout as sleep } from 'node:timers/promises';
import { ApiError, UsageError } from '../client';
import type { Context } from '../context';

function versionOf(text: string): number {
  const n = Number(text.replace(/^v/, ''));
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`<version>: expected a version number such as 2, got "${text}"`);
  return n;
}

interface DeployAnswer {
  model: string;
  version: number;
  strategy: string;
  share: number;
  correlationId: string;
}

export interface DeployOptions {
  canary?: string;
  shadow?: boolean;
  blueGreen?: boolean;
  ab?: string;
  labels?: string;
  wait: boolean;
  timeout: string;
}

function shareOf(flag: string, text: string): number {
  const share = Number(text);
  if (!Number.isFinite(share) || share <= 0 || share >= 1) throw new UsageError(`${flag}: expected a share of traffic between 0 and 1 (e.g. 0.1), got "${text}"`);
  return share;
}

/** The deploy route's body for the one strategy the flags choose (full when none does). */
function deployBody(version: number, options: DeployOptions): Record<string, unknown> {
  const chosen = [options.canary !== undefined && '--canary', options.shadow && '--shadow', options.blueGreen && '--blue-green', options.ab !== undefined && '--ab'].filter(Boolean);
  if (chosen.length > 1) throw new UsageError(`${chosen.join(', ')}: choose one release strategy`);
  if (options.labels !== undefined && options.ab === undefined) throw new UsageError('--labels: only with --ab');
  if (options.canary !== undefined) return { version, strategy: 'canary', share: shareOf('--canary', options.canary) };
  if (options.shadow) return { version, strategy: 'shadow' };
  if (options.blueGreen) return { version, strategy: 'blue-green' };
  if (options.ab !== undefined) {
    const labels = options.labels === undefined ? undefined : Number(options.labels);
    if (labels !== undefined && (!Number.isInteger(labels) || labels < 1)) throw new UsageError(`--labels: expected a whole number of labels per side, got "${options.labels}"`);
    return { version, strategy: 'ab', share: shareOf('--ab', options.ab), ...(labels === undefined ? {} : { labels }) };
  }
  return { version, strategy: 'full' };
}

const STRATEGY_WORDS: Record<string, (share: number) => string> = {
  full: () => 'full, all traffic',
  canary: (share) => `canary, ${Math.round(share * 100)}% of traffic`,
  shadow: () => 'shadow, a copy of the traffic, its answers never returned',
  'blue-green': () => 'blue-green, all traffic at once, the old version kept warm',
  ab: (share) => `A/B test, ${Math.round(share * 100)}% of traffic`,
};

/** `mlops deploy <model> <version> [--canary share | --shadow | --blue-green | --ab share]`: asks serving (through the registry) to load it. */
export async function deploy(ctx: Context, model: string, versionText: string, options: DeployOptions): Promise<number> {
  const version = versionOf(versionText);
  const body = deployBody(version, options);
  const answer = await ctx.client.post<DeployAnswer>(`/registry/models/${encodeURIComponent(model)}/deploy`, body);
  const requested = `${answer.model} v${answer.version}: deployment requested (${(STRATEGY_WORDS[answer.strategy] ?? (() => answer.strategy))(answer.share)}), correlation id ${answer.correlationId}`;
  if (!options.wait) {
    ctx.result(answer, [requested, `  follow it with \`mlops models ${answer.model}\``]);
    return 0;
  }
  // Serving answers the version's KServe readiness once it has loaded and warmed it.
  const deadline = Date.now() + Number(options.timeout) * 1000;
  const ready = `/serving/v2/models/${encodeURIComponent(model)}/versions/${version}/ready`;
  while ((await ctx.client.probe(ready)).status !== 200) {
    if (Date.now() > deadline) {
      ctx.result({ ...answer, serving: false }, [requested, `  serving has not loaded v${version} after ${options.timeout}s: see \`mlops models ${model}\` and serving's log`]);
      return 1;
    }
    await sleep(250);
  }
  ctx.result({ ...answer, serving: true }, [requested, `  serving ${answer.model} v${answer.version}`]);
  return 0;
}

/** `mlops promote <model> <version>`: champion moves; 409 when serving has not loaded the version. */
export async function promote(ctx: Context, model: string, versionText: string, options: { reason?: string }): Promise<number> {
  const version = versionOf(versionText);
  let answer: { model: string; champion: number; previous_version: number | null; changed: boolean };
  try {
    answer = await ctx.client.post(`/registry/models/${encodeURIComponent(model)}/promote`, { version, ...(options.reason ? { reason: options.reason } : {}) });
  } catch (error) {
    if (error instanceof ApiError && error.status === 409) {
      throw new ApiError(error.method, error.url, 409, error.body, `${error.message}; deploy it first: \`mlops deploy ${model} ${version}\``);
    }
    throw error;
  }
  ctx.result(answer, [
    answer.changed ? `${answer.model} v${answer.champion} is champion${answer.previous_version ? ` (was v${answer.previous_version})` : ''}` : `${answer.model} v${answer.champion} is already champion (unchanged)`,
  ]);
  return 0;
}

/** `mlops rollback <model> [--reason r]`: restores the champion before the latest promotion. */
export async function rollback(ctx: Context, model: string, options: { reason: string }): Promise<number> {
  const answer = await ctx.client.post<{ model: string; rolled_back_version: number; champion: number | null }>(`/registry/models/${encodeURIComponent(model)}/rollback`, {
    reason: options.reason,
  });
  ctx.result(answer, [`${answer.model}: rolled back v${answer.rolled_back_version}; champion is ${answer.champion ? `v${answer.champion}` : 'none'}`]);
  return 0;
}

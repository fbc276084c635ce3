import { setTimeout as sleep } from 'node:timers/promises';
import { UsageError } from '../client';
import type { Context } from '../context';
import { table } from '../table';

interface Loop {
  correlationId: string;
  model: string;
  status: 'open' | 'closed';
  outcome: string | null;
  outcomeReason: string | null;
  driftVersion: number;
  driftedFeatures: string[];
  candidateVersion: number | null;
  startedAt: string;
  durationMs: number | null;
}
interface Stage {
  type: string;
  at: string;
  facts: Record<string, unknown>;
  ignored: boolean;
  note: string | null;
  sinceStartMs: number;
}

const FACTS = ['version', 'verdict', 'status', 'trafficShare', 'rowCount', 'trainer', 'strategy', 'reason', 'error'];
const stageLine = (loop: Loop, s: Stage) => {
  const facts = Object.entries(s.facts)
    .filter(([k]) => FACTS.includes(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return `${loop.model} ${loop.correlationId.slice(0, 8)} +${(s.sinceStartMs / 1000).toFixed(1)}s ${s.type}${facts ? ` ${facts}` : ''}${s.ignored ? ' (ignored)' : ''}${s.note ? `  ${s.note}` : ''}`;
};

export interface LoopsOptions {
  model?: string;
  watch?: boolean;
  next?: boolean;
  until?: string;
  timeout: string;
  interval: string;
}

/**
 * `mlops loops [--model m]`: the loops, newest first. `--watch` follows the newest loop (waiting
 * for one when there is none; with `--next`, for one that opens from now on) stage by stage
 * until it closes (or `--until <stage>` is recorded); exit 0 when it is promoted (or the stage
 * came), 1 for any other outcome or at `--timeout`.
 */
export async function loops(ctx: Context, options: LoopsOptions): Promise<number> {
  const query = options.model ? `?model=${encodeURIComponent(options.model)}` : '';
  const list = async () => (await ctx.client.get<{ loops: Loop[] }>(`/loop/api/loops${query}`)).loops;
  if (!options.watch) {
    if (options.until || options.next) throw new UsageError('--until and --next go with --watch');
    const found = await list();
    ctx.result(
      { loops: found },
      found.length === 0
        ? [`no loops${options.model ? ` of ${options.model}` : ''} yet: a loop opens when monitoring detects drift`]
        : table([
            ['LOOP', 'MODEL', 'STATUS', 'OUTCOME', 'FROM', 'CANDIDATE', 'DRIFTED', 'STARTED'],
            ...found.map((l) => [l.correlationId.slice(0, 8), l.model, l.status, l.outcome ?? '-', `v${l.driftVersion}`, l.candidateVersion ? `v${l.candidateVersion}` : '-', l.driftedFeatures.join(',') || '-', l.startedAt]),
          ]),
    );
    return 0;
  }
  const timeoutS = Number(options.timeout);
  const intervalMs = Number(options.interval) * 1000;
  if (!(timeoutS > 0) || !(intervalMs > 0)) throw new UsageError('--timeout and --interval: expected positive numbers of seconds');
  const deadline = Date.now() + timeoutS * 1000;
  // --next: only a loop that opens from now on; else the newest loop, open or closed.
  const before = new Set(options.next ? (await list()).map((l) => l.correlationId) : []);
  let target: Loop | undefined;
  let printed = 0;
  let waiting = false;
  while (Date.now() <= deadline) {
    if (!target) {
      target = (await list()).find((l) => !before.has(l.correlationId));
      if (!target && !waiting) {
        ctx.note(`waiting for a loop${options.model ? ` of ${options.model}` : ''} to open (monitoring opens one when it detects drift)...`);
        waiting = true;
      }
    }
    if (target) {
      const { loop } = await ctx.client.get<{ loop: Loop & { stages: Stage[] } }>(`/loop/api/loops/${encodeURIComponent(target.correlationId)}`);
      for (const stage of loop.stages.slice(printed)) {
        if (ctx.json) ctx.io.stdout.write(`${JSON.stringify({ loop: loop.correlationId, model: loop.model, stage })}\n`);
        else ctx.say(stageLine(loop, stage));
      }
      printed = loop.stages.length;
      if (options.until && loop.stages.some((s) => s.type === options.until && !s.ignored)) {
        ctx.say(`${loop.model} ${loop.correlationId.slice(0, 8)}: ${options.until} recorded`);
        return 0;
      }
      if (loop.status === 'closed') {
        const { stages, ...summary } = loop;
        if (ctx.json) ctx.io.stdout.write(`${JSON.stringify({ loop: summary, stages: stages.length })}\n`);
        else ctx.say(`${loop.model} ${loop.correlationId.slice(0, 8)}: ${loop.outcome}${loop.candidateVersion ? ` (candidate v${loop.candidateVersion})` : ''}: ${loop.outcomeReason ?? ''}`);
        return loop.outcome === 'promoted' && !options.until ? 0 : 1;
      }
    }
    await sleep(intervalMs);
  }
  ctx.note(`no ${options.until ?? 'loop outcome'} within ${timeoutS}s${target ? ` (loop ${target.correlationId} is still open)` : ''}; raise --timeout or check \`mlops loops\``);
  return 1;
}

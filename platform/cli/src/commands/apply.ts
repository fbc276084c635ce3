import type { Context } from '../context';
import { loadProject } from '../project';

interface ContractAnswer {
  version: number;
  changed: boolean;
}
interface PolicyAnswer {
  version: number;
  changed: boolean;
}
interface ViewAnswer {
  name: string;
  version: number;
  changed: boolean;
  backfilled: number;
}

/**
 * `mlops apply -f <dir|file>`: contracts, then feature views (backfilled by the feature store),
 * then each model's loop feature view, training params (what its retrains train with) and release policy. Idempotent: the services version what changed and
 * leave the rest; each line says which.
 */
export async function apply(ctx: Context, options: { file: string }): Promise<number> {
  const project = loadProject(ctx.io.cwd, options.file);
  const changes: Record<string, unknown>[] = [];
  const line = (change: Record<string, unknown>, text: string) => {
    changes.push(change);
    ctx.say(text);
  };
  for (const { source, ...contract } of project.contracts) {
    const answer = await ctx.client.put<ContractAnswer>(`/ingestion/sources/${encodeURIComponent(source)}/contract`, contract);
    const state = !answer.changed ? 'unchanged' : answer.version === 1 ? 'created' : 'changed';
    line({ kind: 'contract', name: source, version: answer.version, state }, `contract ${source}: ${state === 'unchanged' ? `unchanged (v${answer.version})` : `${state} v${answer.version}`}`);
  }
  for (const view of project.featureViews) {
    const answer = await ctx.client.put<ViewAnswer>(`/feature-store/feature-views/${encodeURIComponent(view.name)}`, view);
    const state = !answer.changed ? 'unchanged' : answer.version === 1 ? 'created' : 'changed';
    line(
      { kind: 'featureView', name: view.name, version: answer.version, state, backfilled: answer.backfilled },
      `feature view ${view.name}: v${answer.version} (${state})${answer.changed ? `, backfilled ${answer.backfilled} rows` : ''}`,
    );
  }
  for (const model of project.models) {
    const params = model.params ?? {};
    await ctx.client.put(`/loop/api/models/${encodeURIComponent(model.name)}/feature-view`, { featureView: model.featureView });
    await ctx.client.put(`/loop/api/models/${encodeURIComponent(model.name)}/training-params`, { params });
    line(
      { kind: 'model', name: model.name, featureView: model.featureView, target: model.target, params },
      `model ${model.name}: the loop retrains it from feature view ${model.featureView} with training params ${JSON.stringify(params)} (as \`mlops train ${model.name} -f ${options.file}\` does)`,
    );
    if (model.policy) {
      const answer = await ctx.client.put<PolicyAnswer>(`/registry/models/${encodeURIComponent(model.name)}/policy`, model.policy);
      const state = !answer.changed ? 'unchanged' : answer.version === 1 ? 'created' : 'changed';
      line({ kind: 'policy', name: model.name, version: answer.version, state }, `release policy of ${model.name}: ${state === 'unchanged' ? `unchanged (v${answer.version})` : `${state} v${answer.version}`}`);
    }
  }
  ctx.result({ file: options.file, changes });
  return 0;
}

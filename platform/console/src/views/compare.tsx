import { useState } from 'preact/hooks';
import { api, MLFLOW, type Run } from '../api';
import { href } from '../router';
import { num, Status, Title, useLoad } from '../ui';
import { Curves } from './run';

/** Runs side by side: parameters (the ones that differ marked, or only those), metrics, and one metric's curves for all of them on one chart. */
export function Compare({ runIds, metric }: { runIds: string[]; metric?: string }) {
  const [onlyDiffs, setOnlyDiffs] = useState(false);
  const state = useLoad(() => Promise.all(runIds.map(async (id) => (await api<{ run: Run }>(`${MLFLOW}/runs/get?run_id=${encodeURIComponent(id)}`)).run)), [runIds.join()]);
  return (
    <section>
      <p class="crumbs">
        <a href={href('experiments')}>Experiments</a> /
      </p>
      <Title text={`Compare ${runIds.length} runs`} />
      <Status state={state}>
        {(runs) => {
          const label = (r: Run) => r.info.run_name || r.info.run_id;
          const paramKeys = [...new Set(runs.flatMap((r) => (r.data.params ?? []).map((p) => p.key)))].sort();
          const metricKeys = [...new Set(runs.flatMap((r) => (r.data.metrics ?? []).map((m) => m.key)))].sort();
          const paramOf = (r: Run, k: string) => r.data.params?.find((p) => p.key === k)?.value;
          const differs = (k: string) => new Set(runs.map((r) => paramOf(r, k) ?? '')).size > 1;
          const shownParams = paramKeys.filter((k) => !onlyDiffs || differs(k));
          const head = (first: string) => (
            <thead>
              <tr>
                <th scope="col">{first}</th>
                {runs.map((r) => (
                  <th scope="col">
                    <a href={href('experiments', r.info.experiment_id, 'runs', r.info.run_id)}>{label(r)}</a>
                  </th>
                ))}
              </tr>
            </thead>
          );
          return (
            <>
              <h2>Metric curves</h2>
              {metricKeys.length ? <Curves runs={runs.map((r) => ({ id: r.info.run_id, label: label(r) }))} keys={metricKeys} initial={metric} /> : <p>No metrics.</p>}
              <h2>Parameters</h2>
              <p>
                <input id="only-diffs" type="checkbox" checked={onlyDiffs} onChange={(e) => setOnlyDiffs(e.currentTarget.checked)} /> <label for="only-diffs">Only parameters that differ</label>
              </p>
              <table class="compare params">
                <caption class="visually-hidden">Parameters</caption>
                {head('Parameter')}
                <tbody>
                  {shownParams.map((k) => (
                    <tr class={differs(k) ? 'differs' : undefined}>
                      <th scope="row">
                        {k}
                        {differs(k) && <span class="badge">differs</span>}
                      </th>
                      {runs.map((r) => (
                        <td>{paramOf(r, k) ?? '–'}</td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
              <h2>Metrics</h2>
              <table class="compare metrics">
                <caption class="visually-hidden">Metrics</caption>
                {head('Metric')}
                <tbody>
                  {metricKeys.map((k) => (
                    <tr>
                      <th scope="row">{k}</th>
                      {runs.map((r) => (
                        <td class="num">{num(r.data.metrics?.find((m) => m.key === k)?.value)}</td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          );
        }}
      </Status>
    </section>
  );
}

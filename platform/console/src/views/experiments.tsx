import { useState } from 'preact/hooks';
import { api, MLFLOW, type Experiment, type Page, type Run } from '../api';
import { href, navigate } from '../router';
import { num, Pager, Status, time, Title, useLoad, usePager } from '../ui';

export function Experiments() {
  const pager = usePager([]);
  const state = useLoad(
    () => api<{ experiments?: Experiment[] } & Page>(`${MLFLOW}/experiments/search`, { max_results: 100, page_token: pager.token }),
    [pager.token],
  );
  return (
    <section>
      <Title text="Experiments" />
      <Status state={state}>
        {(data) => (
          <>
            <table>
              <caption class="visually-hidden">Experiments</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">ID</th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {(data.experiments ?? []).map((e) => (
                  <tr>
                    <td>
                      <a href={href('experiments', e.experiment_id)}>{e.name}</a>
                    </td>
                    <td>{e.experiment_id}</td>
                    <td>{time(e.creation_time)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <Pager pager={pager} nextToken={data.next_page_token} label="experiments" shown={data.experiments?.length ?? 0} />
          </>
        )}
      </Status>
    </section>
  );
}

export const RUNS_PAGE_SIZE = 50;
const METRIC_COLUMNS = 6;

/** One experiment's runs, one server-side page at a time (MLflow `runs/search` with `max_results` and `page_token`). */
export function Runs({ experimentId, params }: { experimentId: string; params: URLSearchParams }) {
  const filter = params.get('filter') ?? '';
  const [draft, setDraft] = useState(filter);
  const [selected, setSelected] = useState<string[]>([]);
  const pager = usePager([experimentId, filter]);
  const experiment = useLoad(() => api<{ experiment: Experiment }>(`${MLFLOW}/experiments/get?experiment_id=${encodeURIComponent(experimentId)}`), [experimentId]);
  const runs = useLoad(
    () =>
      api<{ runs?: Run[] } & Page>(`${MLFLOW}/runs/search`, {
        experiment_ids: [experimentId],
        filter: filter || undefined,
        max_results: RUNS_PAGE_SIZE,
        order_by: ['attributes.start_time DESC'],
        page_token: pager.token,
      }),
    [experimentId, filter, pager.token],
  );
  const name = experiment.data?.experiment.name ?? `experiment ${experimentId}`;
  const toggle = (id: string) => setSelected((s) => (s.includes(id) ? s.filter((x) => x !== id) : [...s, id]));
  return (
    <section>
      <p class="crumbs">
        <a href={href('experiments')}>Experiments</a> /
      </p>
      <Title text={`Runs of ${name}`} />
      <form
        class="filter"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          navigate(`${href('experiments', experimentId)}${draft.trim() ? `?filter=${encodeURIComponent(draft.trim())}` : ''}`);
        }}
      >
        <label for="run-filter">Filter (MLflow search syntax)</label>
        <input id="run-filter" type="search" value={draft} placeholder="metrics.accuracy > 0.9 and params.lr = '0.1'" onInput={(e) => setDraft(e.currentTarget.value)} />
        <button type="submit">Search</button>
      </form>
      <p>
        <button type="button" disabled={selected.length < 2} onClick={() => navigate(`#/compare?runs=${selected.map(encodeURIComponent).join(',')}`)}>
          Compare {selected.length} selected runs
        </button>
      </p>
      <Status state={runs}>
        {(data) => {
          const list = data.runs ?? [];
          const metricKeys = [...new Set(list.flatMap((r) => (r.data.metrics ?? []).map((m) => m.key)))].sort().slice(0, METRIC_COLUMNS);
          return (
            <>
              <table class="runs">
                <caption class="visually-hidden">Runs of {name}</caption>
                <thead>
                  <tr>
                    <th scope="col">Compare</th>
                    <th scope="col">Run</th>
                    <th scope="col">Status</th>
                    <th scope="col">Started</th>
                    {metricKeys.map((k) => (
                      <th scope="col">{k}</th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {list.map((r) => {
                    const runName = r.info.run_name || r.info.run_id;
                    return (
                      <tr>
                        <td>
                          <input type="checkbox" aria-label={`select ${runName}`} checked={selected.includes(r.info.run_id)} onChange={() => toggle(r.info.run_id)} />
                        </td>
                        <td>
                          <a href={href('experiments', experimentId, 'runs', r.info.run_id)}>{runName}</a>
                        </td>
                        <td>{r.info.status}</td>
                        <td>{time(r.info.start_time)}</td>
                        {metricKeys.map((k) => (
                          <td class="num">{num(r.data.metrics?.find((m) => m.key === k)?.value)}</td>
                        ))}
                      </tr>
                    );
                  })}
                </tbody>
              </table>
              {list.length === 0 && <p>No runs{filter ? ' match this filter' : ''}.</p>}
              <Pager pager={pager} nextToken={data.next_page_token} label="runs" shown={list.length} />
            </>
          );
        }}
      </Status>
    </section>
  );
}

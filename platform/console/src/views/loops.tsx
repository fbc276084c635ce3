import { useState } from 'preact/hooks';
import { api, query, type Loop } from '../api';
import { href, navigate } from '../router';
import { duration, Status, time, Title, useInterval, useLoad } from '../ui';

const OUTCOMES = ['promoted', 'rolled_back', 'rejected_by_gate', 'failed'];
const REFRESH_MS = 3000;

/** Every loop, newest first, filterable by model and outcome; refreshed every few seconds. */
export function Loops({ params }: { params: URLSearchParams }) {
  const model = params.get('model') ?? '';
  const outcome = params.get('outcome') ?? '';
  const [draft, setDraft] = useState({ model, outcome });
  const state = useLoad(() => api<{ loops: Loop[] }>(`/loop/api/loops?${query({ model, outcome, limit: 200 })}`), [model, outcome]);
  useInterval(state.reload, REFRESH_MS, true);
  return (
    <section>
      <Title text="Loops" />
      <form
        class="filter"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          const q = query({ model: draft.model.trim(), outcome: draft.outcome });
          navigate(`#/loops${q ? `?${q}` : ''}`);
        }}
      >
        <label for="loop-model">Model</label>
        <input id="loop-model" value={draft.model} onInput={(e) => setDraft({ ...draft, model: e.currentTarget.value })} />
        <label for="loop-outcome">Outcome</label>
        <select id="loop-outcome" value={draft.outcome} onChange={(e) => setDraft({ ...draft, outcome: e.currentTarget.value })}>
          <option value="">any</option>
          {OUTCOMES.map((o) => (
            <option value={o}>{o}</option>
          ))}
        </select>
        <button type="submit">Filter</button>
      </form>
      <Status state={state}>
        {({ loops }) => (
          <>
            <table>
              <caption class="visually-hidden">Loops</caption>
              <thead>
                <tr>
                  <th scope="col">Started</th>
                  <th scope="col">Model</th>
                  <th scope="col">Status</th>
                  <th scope="col">Outcome</th>
                  <th scope="col">Versions</th>
                  <th scope="col">Duration</th>
                </tr>
              </thead>
              <tbody>
                {loops.map((l) => (
                  <tr>
                    <td>
                      <a href={href('loops', l.correlationId)}>{time(l.startedAt)}</a>
                    </td>
                    <td>{l.model}</td>
                    <td>{l.status}</td>
                    <td>{l.outcome ?? '–'}</td>
                    <td>
                      {l.driftVersion ? `v${l.driftVersion}` : '–'} → {l.candidateVersion ? `v${l.candidateVersion}` : '–'}
                    </td>
                    <td>{duration(l.durationMs)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {loops.length === 0 && <p>No loops{model || outcome ? ' match these filters' : ''}.</p>}
          </>
        )}
      </Status>
    </section>
  );
}

const factsText = (facts: Record<string, unknown>) =>
  Object.entries(facts)
    .filter(([, v]) => v !== null && v !== undefined && typeof v !== 'object')
    .map(([k, v]) => `${k}: ${String(v)}`)
    .join(', ');

/** One loop: its stages in order with the time since the previous one; refreshed while the loop is open. */
export function LoopDetailView({ id }: { id: string }) {
  const state = useLoad(() => api<{ loop: Loop }>(`/loop/api/loops/${encodeURIComponent(id)}`), [id]);
  const open = state.data?.loop.status !== 'closed';
  useInterval(state.reload, REFRESH_MS, open);
  return (
    <section>
      <p class="crumbs">
        <a href={href('loops')}>Loops</a> /
      </p>
      <Title text={`Loop of ${state.data?.loop.model ?? '…'}`} />
      <Status state={state}>
        {({ loop }) => {
          const stages = loop.stages ?? [];
          return (
            <>
              <dl class="facts">
                <dt>Correlation ID</dt>
                <dd>
                  <code>{loop.correlationId}</code>
                </dd>
                <dt>Status</dt>
                <dd aria-live="polite">
                  {loop.status}
                  {open ? ' (updating every few seconds)' : ''}
                </dd>
                <dt>Outcome</dt>
                <dd>
                  {loop.outcome ?? '–'}
                  {loop.outcomeReason ? `: ${loop.outcomeReason}` : ''}
                </dd>
                <dt>Drifted features</dt>
                <dd>{loop.driftedFeatures.join(', ') || '–'}</dd>
                <dt>Model</dt>
                <dd>
                  <a href={href('models', loop.model)}>{loop.model}</a>
                  {loop.candidateVersion ? (
                    <>
                      {' '}
                      (candidate <a href={href('models', loop.model, 'versions', loop.candidateVersion)}>version {loop.candidateVersion}</a>)
                    </>
                  ) : null}
                </dd>
                <dt>Duration</dt>
                <dd>{duration(loop.durationMs)}</dd>
              </dl>
              <h2>Timeline</h2>
              <ol class="timeline" aria-label="Stages in order">
                {stages.map((s) => (
                  <li class={s.ignored ? 'ignored' : undefined} data-stage={s.type}>
                    <span class="stage">{s.type}</span>
                    <span class="gap">{s.sincePreviousMs === 0 && s.sinceStartMs === 0 ? 'start' : `+${duration(s.sincePreviousMs)}`}</span>
                    <span class="meta">
                      {time(s.at)} · {s.source}
                      {s.ignored ? ' · ignored' : ''}
                      {s.note ? ` · ${s.note}` : ''}
                    </span>
                    <span class="facts-line">{factsText(s.facts)}</span>
                  </li>
                ))}
              </ol>
            </>
          );
        }}
      </Status>
    </section>
  );
}

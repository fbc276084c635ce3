import { useState } from 'preact/hooks';
import { api, MLFLOW, query, type GateDecision, type Lineage, type ModelSummary, type ModelVersion, type Page, type RegisteredModel, type VersionListing } from '../api';
import { href } from '../router';
import { VersionActions } from './actions';
import { num, Pager, Status, time, Title, useInterval, useLoad, usePager } from '../ui';

export const MODELS_PAGE_SIZE = 25;
const path = (name: string) => encodeURIComponent(name);
const quoted = (name: string) => `'${name.replace(/'/g, "\\'")}'`;

export function Models() {
  const [draft, setDraft] = useState('');
  const [search, setSearch] = useState('');
  const pager = usePager([search]);
  const state = useLoad(
    () =>
      api<{ registered_models?: RegisteredModel[] } & Page>(`${MLFLOW}/registered-models/search`, {
        max_results: MODELS_PAGE_SIZE,
        page_token: pager.token,
        filter: search ? `name LIKE ${quoted(`%${search}%`)}` : undefined,
      }),
    [search, pager.token],
  );
  return (
    <section>
      <Title text="Registered models" />
      <form
        class="filter"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setSearch(draft.trim());
        }}
      >
        <label for="model-filter">Name contains</label>
        <input id="model-filter" type="search" value={draft} onInput={(e) => setDraft(e.currentTarget.value)} />
        <button type="submit">Search</button>
      </form>
      <Status state={state}>
        {(data) => {
          const models = data.registered_models ?? [];
          return (
            <>
              <table>
                <caption class="visually-hidden">Registered models</caption>
                <thead>
                  <tr>
                    <th scope="col">Model</th>
                    <th scope="col">Aliases</th>
                    <th scope="col">Latest version</th>
                    <th scope="col">Updated</th>
                  </tr>
                </thead>
                <tbody>
                  {models.map((m) => (
                    <tr>
                      <td>
                        <a href={href('models', m.name)}>{m.name}</a>
                      </td>
                      <td>{(m.aliases ?? []).map((a) => `${a.alias} → v${a.version}`).join(', ') || '–'}</td>
                      <td>{m.latest_versions?.map((v) => v.version).sort((a, b) => Number(b) - Number(a))[0] ?? '–'}</td>
                      <td>{time(m.last_updated_timestamp)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {models.length === 0 && <p>No registered models.</p>}
              <Pager pager={pager} nextToken={data.next_page_token} label="models" shown={models.length} />
            </>
          );
        }}
      </Status>
    </section>
  );
}

const gateOf = (name: string, version: string) => api<GateDecision>(`/registry/models/${path(name)}/versions/${path(version)}/gate`).catch(() => undefined);

const TRAFFIC_REFRESH_MS = 2000;

/** One serving version: its share of the traffic and how it was deployed, e.g. `version 2 100% (deployed as shadow)`, or the running shadow. */
const servingText = (s: ModelSummary['serving'][number]) =>
  s.shadow ? `version ${s.version} shadow (a copy of every request, answers not returned)` : `version ${s.version} ${Math.round(s.share * 1000) / 10}%${s.strategy ? ` (deployed as ${s.strategy})` : ''}`;

/** What serving runs of the model: each version with its share of the traffic and its strategy, largest first (refreshed every 2 s: a deployment lands after its 202). */
function Traffic({ name }: { name: string }) {
  const state = useLoad(() => api<ModelSummary>(`/registry/models/${path(name)}`), [name]);
  useInterval(state.reload, TRAFFIC_REFRESH_MS, true);
  return (
    <Status state={state}>
      {(model) => (
        <p class="traffic">
          Traffic:{' '}
          {model.serving.length
            ? [...model.serving].sort((a, b) => b.share - a.share || b.version - a.version).map(servingText).join(', ')
            : 'serving runs no version'}
          {model.champion ? ` · champion: version ${model.champion}` : ''}
        </p>
      )}
    </Status>
  );
}

/**
 * A model's versions, newest first, one page of the registry's keyset listing at a time
 * (GET /registry/models/:name/versions: a model of 10,000 versions loads 25 rows), each with
 * its aliases, stage and gate decision.
 */
export function ModelView({ name }: { name: string }) {
  const pager = usePager([name]);
  const state = useLoad(() => api<VersionListing>(`/registry/models/${path(name)}/versions?${query({ max_results: MODELS_PAGE_SIZE, page_token: pager.token })}`), [name, pager.token]);
  return (
    <section>
      <p class="crumbs">
        <a href={href('models')}>Models</a> /
      </p>
      <Title text={`Model ${name}`} />
      <p>
        <a href={href('monitoring', name)}>Monitoring of {name}</a> · <a href={`#/loops?model=${encodeURIComponent(name)}`}>Loops of {name}</a>
      </p>
      <Traffic name={name} />
      <Status state={state}>
        {({ versions, next_page_token }) => (
          <>
            <table class="versions">
              <caption>Versions of {name}, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Version</th>
                  <th scope="col">Aliases</th>
                  <th scope="col">Stage</th>
                  <th scope="col">Created</th>
                  <th scope="col">Gate</th>
                  <th scope="col">Serving</th>
                  <th scope="col">Gate metric</th>
                  <th scope="col">Candidate score</th>
                  <th scope="col">Champion score</th>
                </tr>
              </thead>
              <tbody>
                {versions.map((v) => (
                  <tr>
                    <td>
                      <a href={href('models', name, 'versions', v.version)}>version {v.version}</a>
                    </td>
                    <td>{v.aliases.join(', ') || '–'}</td>
                    <td>{v.stage}</td>
                    <td>{time(v.createdAt)}</td>
                    <td title={v.gate?.reason}>{v.gate ? <Decision gate={v.gate} /> : '–'}</td>
                    <td title={v.serving?.error ?? undefined}>{servingStatus(v.serving)}</td>
                    <td>{v.gate?.metric ?? '–'}</td>
                    <td class="num">{num(v.gate?.candidateScore)}</td>
                    <td class="num">{num(v.gate?.championScore)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <Pager pager={pager} nextToken={next_page_token} label="versions" shown={versions.length} />
          </>
        )}
      </Status>
    </section>
  );
}

/** A passed decision with checks still pending (latency, until serving's warm-up reports it) says so. */
const Decision = ({ gate }: { gate: { passed: boolean; pendingChecks?: string[] | null; pending_checks?: string[] | null } }) => {
  const pending = gate.pendingChecks ?? gate.pending_checks ?? [];
  if (!gate.passed) return <span class="fail">✗ rejected</span>;
  return <span class="pass">{pending.length ? `✓ passed, ${pending.join(', ')} pending` : '✓ passed'}</span>;
};

/** serving's last report of a version: `serving 10%`, `rejected` (its warm-up checks failed, never routed), `failed`, `unloaded`. */
const servingStatus = (serving: VersionListing['versions'][number]['serving']) => {
  if (!serving) return '–';
  if (serving.status === 'serving') return `serving ${Math.round(serving.share * 1000) / 10}%`;
  return <span class={serving.status === 'unloaded' ? undefined : 'fail'}>{serving.status}</span>;
};

/** One version: its gate decision (metric, both scores, each check) and lineage (run, dataset, code), the model's traffic, with deploy, promote and rollback. */
export function ModelVersionView({ name, version }: { name: string; version: string }) {
  const state = useLoad(
    () =>
      Promise.all([
        api<{ model_version: ModelVersion }>(`${MLFLOW}/model-versions/get?name=${path(name)}&version=${path(version)}`),
        gateOf(name, version),
        api<Lineage>(`/registry/models/${path(name)}/versions/${path(version)}/lineage`).catch(() => undefined),
      ]),
    [name, version],
  );
  return (
    <section>
      <p class="crumbs">
        <a href={href('models')}>Models</a> / <a href={href('models', name)}>{name}</a> /
      </p>
      <Title text={`${name} version ${version}`} />
      <Status state={state}>
        {([{ model_version: v }, gate, lineage]) => (
          <>
            <dl class="facts">
              <dt>Aliases</dt>
              <dd>{v.aliases?.join(', ') || '–'}</dd>
              <dt>Stage</dt>
              <dd>{v.current_stage ?? '–'}</dd>
              <dt>Status</dt>
              <dd>{v.status ?? '–'}</dd>
              <dt>Created</dt>
              <dd>{time(v.creation_timestamp)}</dd>
            </dl>
            <h2>Gate decision</h2>
            {gate ? (
              <>
                <p class="decision">
                  <Decision gate={gate} />: {gate.reason}
                </p>
                <table class="gate">
                  <caption class="visually-hidden">Gate decision</caption>
                  <tbody>
                    <tr>
                      <th scope="row">Metric</th>
                      <td>
                        {gate.metric} ({gate.higher_is_better ? 'higher' : 'lower'} is better, {gate.basis})
                      </td>
                    </tr>
                    <tr>
                      <th scope="row">Candidate score</th>
                      <td class="num">{num(gate.candidate_score)}</td>
                    </tr>
                    <tr>
                      <th scope="row">Champion score</th>
                      <td class="num">{gate.champion_version ? `${num(gate.champion_score)} (version ${gate.champion_version})` : 'no champion'}</td>
                    </tr>
                    <tr>
                      <th scope="row">Tolerance</th>
                      <td class="num">{num(gate.tolerance)}</td>
                    </tr>
                    {(gate.checks ?? []).map((c) => (
                      <tr>
                        <th scope="row">Check {c.name}</th>
                        <td>
                          {c.passed === null ? <span>… pending</span> : <span class={c.passed ? 'pass' : 'fail'}>{c.passed ? '✓' : '✗'}</span>} {c.detail}
                        </td>
                      </tr>
                    ))}
                    {gate.policy_version ? (
                      <tr>
                        <th scope="row">Release policy</th>
                        <td>version {gate.policy_version}</td>
                      </tr>
                    ) : null}
                    <tr>
                      <th scope="row">Decided</th>
                      <td>{time(gate.decided_at)}</td>
                    </tr>
                  </tbody>
                </table>
              </>
            ) : (
              <p>No gate decision recorded for this version.</p>
            )}
            <h2>Lineage</h2>
            {lineage ? (
              <dl class="facts">
                <dt>Run</dt>
                <dd>{lineage.run_id ? <a href={href('runs', lineage.run_id)}>{lineage.run_id}</a> : '–'}</dd>
                <dt>Dataset</dt>
                <dd>
                  {lineage.dataset?.id ?? '–'} <code>{lineage.dataset?.hash ?? ''}</code>
                </dd>
                <dt>Code version</dt>
                <dd>{lineage.code_version ?? '–'}</dd>
                <dt>Artifact</dt>
                <dd>
                  <code>{lineage.artifact?.hash ?? '–'}</code>
                </dd>
              </dl>
            ) : (
              <p>No lineage recorded.</p>
            )}
            <h2>Actions</h2>
            <Traffic name={name} />
            <VersionActions name={name} version={version} onDone={state.reload} />
          </>
        )}
      </Status>
    </section>
  );
}

import { useState } from 'preact/hooks';
import { api, query, type Canary, type DriftAnswer, type DriftHistoryPage, type ModelStatus } from '../api';
import { LineChart } from '../chart';
import { href } from '../router';
import { num, Status, time, Title, useInterval, useLoad } from '../ui';

const REFRESH_MS = 5000;
/** Windows on the drift-over-time chart: the newest ones of the version. */
const HISTORY_WINDOWS = 100;

export function Monitoring() {
  const state = useLoad(() => api<{ models: string[]; labels?: Record<string, number> }>('/monitoring/status'), []);
  return (
    <section>
      <Title text="Monitoring" />
      <Status state={state}>
        {({ models, labels }) => (
          <>
            <h2>Models watched</h2>
            {models.length ? (
              <ul>
                {models.map((m) => (
                  <li>
                    <a href={href('monitoring', m)}>{m}</a>
                  </li>
                ))}
              </ul>
            ) : (
              <p>No model has predictions yet.</p>
            )}
            {labels && (
              <>
                <h2>Labels</h2>
                <dl class="facts">
                  {Object.entries(labels).map(([k, v]) => (
                    <>
                      <dt>{k}</dt>
                      <dd>{v}</dd>
                    </>
                  ))}
                </dl>
              </>
            )}
          </>
        )}
      </Status>
    </section>
  );
}

/** A model's drift per feature (statistic against its threshold) in the last window and over time, dataset drift share, live performance per version and canary verdicts; refreshed every few seconds. */
export function MonitoringModel({ model }: { model: string }) {
  const m = encodeURIComponent(model);
  const state = useLoad(() => Promise.all([api<DriftAnswer>(`/monitoring/models/${m}/drift`), api<ModelStatus>(`/monitoring/models/${m}/status`)]), [model]);
  useInterval(state.reload, REFRESH_MS, true);
  return (
    <section>
      <p class="crumbs">
        <a href={href('monitoring')}>Monitoring</a> /
      </p>
      <Title text={`Monitoring of ${model}`} />
      <Status state={state}>
        {([drift, status]) => (
          <>
            <p>
              Champion: {status.champion ? <a href={href('models', model, 'versions', status.champion)}>version {status.champion}</a> : 'none'}
              {status.canary ? ` · canary: version ${status.canary.version}` : ''}
            </p>
            <h2>Drift per feature</h2>
            <DriftReport drift={drift} />
            <h2>Drift over time</h2>
            <DriftOverTime
              model={model}
              versions={status.versions.map((v) => v.version)}
              initialVersion={drift.version ?? status.champion ?? undefined}
              initialFeature={drift.report?.features.find((f) => f.drifted)?.feature}
            />
            <h2>Live performance</h2>
            <table>
              <caption class="visually-hidden">Live performance per version</caption>
              <thead>
                <tr>
                  <th scope="col">Version</th>
                  <th scope="col">Labels</th>
                  <th scope="col">Metrics on live labels</th>
                  <th scope="col">Training baseline</th>
                  <th scope="col">Reference</th>
                </tr>
              </thead>
              <tbody>
                {status.versions.map((v) => (
                  <tr>
                    <th scope="row">version {v.version}</th>
                    <td class="num">{v.performance?.labels ?? 0}</td>
                    <td>
                      {Object.entries(v.performance?.metrics ?? {})
                        .map(([k, value]) => `${k} ${num(value)}`)
                        .join(', ') || '–'}
                    </td>
                    <td>{v.performance?.baseline ? `${v.performance.baseline.metric} ${num(v.performance.baseline.value)}` : '–'}</td>
                    <td>
                      {v.reference.status}
                      {v.reference.problem ? `: ${v.reference.problem}` : ''}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            <h2>Canaries</h2>
            {status.canaries.length ? <Canaries canaries={status.canaries} /> : <p>No canary so far.</p>}
          </>
        )}
      </Status>
    </section>
  );
}

function DriftReport({ drift }: { drift: DriftAnswer }) {
  const report = drift.report;
  if (!report) return <p>No drift window evaluated yet{drift.version ? ` for version ${drift.version}` : ''}.</p>;
  const { datasetDrift } = report;
  return (
    <>
      <p class={datasetDrift.drifted ? 'fail' : 'pass'}>
        Version {drift.version}, window of {report.rows} predictions ({time(drift.window?.start)} to {time(drift.window?.end)}): {Math.round(datasetDrift.share * 100)}% of features drifted (dataset drift when
        over {Math.round(datasetDrift.threshold * 100)}%): {datasetDrift.drifted ? 'dataset drift' : 'no dataset drift'}.
      </p>
      <table class="drift">
        <caption class="visually-hidden">Drift per feature</caption>
        <thead>
          <tr>
            <th scope="col">Feature</th>
            <th scope="col">Statistic</th>
            <th scope="col">Value</th>
            <th scope="col">Threshold</th>
            <th scope="col">Drifted</th>
            <th scope="col">Value against threshold</th>
          </tr>
        </thead>
        <tbody>
          {report.features.map((f) => (
            <tr class={f.drifted ? 'drifted' : undefined} data-feature={f.feature}>
              <th scope="row">{f.feature}</th>
              <td>{f.statistic}</td>
              <td class="num">{num(f.value)}</td>
              <td class="num">{num(f.threshold)}</td>
              <td>{f.drifted ? 'yes' : 'no'}</td>
              <td>
                <meter min={0} max={Math.max(f.value, f.threshold) * 1.25 || 1} high={f.threshold} optimum={0} value={f.value} aria-label={`${f.feature}: ${num(f.value)} against threshold ${num(f.threshold)}`} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

/**
 * One feature of one version over its last windows (GET /monitoring/models/:model/drift/history):
 * the statistic and its threshold on one chart, window 1 the oldest shown.
 */
function DriftOverTime({ model, versions, initialVersion, initialFeature }: { model: string; versions: number[]; initialVersion?: number; initialFeature?: string }) {
  const [version, setVersion] = useState(initialVersion ?? versions[versions.length - 1]);
  const [chosen, setChosen] = useState(initialFeature);
  const state = useLoad(
    () => api<DriftHistoryPage>(`/monitoring/models/${encodeURIComponent(model)}/drift/history?${query({ version, limit: HISTORY_WINDOWS })}`),
    [model, version],
  );
  useInterval(state.reload, REFRESH_MS, true);
  const choices = [...new Set([...versions, ...(version === undefined ? [] : [version])])].sort((a, b) => a - b);
  return (
    <>
      <form class="filter" onSubmit={(e) => e.preventDefault()}>
        <label for="drift-version">Version</label>
        <select id="drift-version" value={version} onChange={(e) => setVersion(Number(e.currentTarget.value))}>
          {choices.map((v) => (
            <option value={v}>version {v}</option>
          ))}
        </select>
        <Status state={state}>
          {(history) => {
            const features = history.windows[0]?.features.map((f) => f.feature) ?? [];
            const feature = chosen && features.includes(chosen) ? chosen : features[0];
            return (
              <>
                <label for="drift-feature">Feature</label>
                <select id="drift-feature" value={feature} onChange={(e) => setChosen(e.currentTarget.value)}>
                  {features.map((f) => (
                    <option value={f}>{f}</option>
                  ))}
                </select>
              </>
            );
          }}
        </Status>
      </form>
      <Status state={state}>{(history) => <DriftChart history={history} version={version} feature={chosen} />}</Status>
    </>
  );
}

function DriftChart({ history, version, feature: chosen }: { history: DriftHistoryPage; version?: number; feature?: string }) {
  const oldestFirst = [...history.windows].reverse();
  const features = history.windows[0]?.features.map((f) => f.feature) ?? [];
  const feature = chosen && features.includes(chosen) ? chosen : features[0];
  if (!feature) return <p>No drift window of version {version} stored yet.</p>;
  const rows = oldestFirst.flatMap((w, i) => {
    const f = w.features.find((x) => x.feature === feature);
    return f ? [{ x: i + 1, f, window: w.window }] : [];
  });
  const statistic = rows[rows.length - 1]?.f.statistic ?? '';
  const drifted = rows.filter((r) => r.f.drifted).length;
  return (
    <>
      <p>
        {feature} of version {version}: {statistic} in each of the last {rows.length} windows ({time(rows[0]?.window.start)} to {time(rows[rows.length - 1]?.window.end)}), drifted in {drifted}.
      </p>
      <LineChart
        title={`Drift of ${feature}, version ${version}`}
        xLabel="window"
        series={[
          { label: `${statistic} of ${feature}`, points: rows.map((r) => ({ x: r.x, y: r.f.value })) },
          { label: 'threshold', points: rows.map((r) => ({ x: r.x, y: r.f.threshold })) },
        ]}
      />
    </>
  );
}

function Canaries({ canaries }: { canaries: Canary[] }) {
  return (
    <table>
      <caption class="visually-hidden">Canaries</caption>
      <thead>
        <tr>
          <th scope="col">Canary</th>
          <th scope="col">Champion</th>
          <th scope="col">Status</th>
          <th scope="col">Predictions</th>
          <th scope="col">Verdict</th>
          <th scope="col">Canary vs champion</th>
          <th scope="col">Confidence</th>
        </tr>
      </thead>
      <tbody>
        {canaries.map((c) => (
          <tr>
            <th scope="row">version {c.version}</th>
            <td>version {c.championVersion}</td>
            <td>
              {c.status}
              {c.endedReason ? `: ${c.endedReason}` : ''}
            </td>
            <td class="num">{c.predictions}</td>
            <td title={c.verdict?.reason}>{c.verdict ? `${c.verdict.verdict}: ${c.verdict.reason}` : 'pending'}</td>
            <td>{c.verdict?.metric ? `${c.verdict.metric} ${num(c.verdict.canaryValue)} vs ${num(c.verdict.championValue)} (${c.verdict.labels ?? 0} labels)` : '–'}</td>
            <td>{c.verdict?.confidence ? `${Math.round(c.verdict.confidence * 100)}%` : '–'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

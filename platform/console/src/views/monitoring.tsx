import { api, type Canary, type DriftAnswer, type ModelStatus } from '../api';
import { href } from '../router';
import { num, Status, time, Title, useInterval, useLoad } from '../ui';

const REFRESH_MS = 5000;

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

/** A model's drift per feature (statistic against its threshold), dataset drift share, live performance per version and canary verdicts; refreshed every few seconds. */
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

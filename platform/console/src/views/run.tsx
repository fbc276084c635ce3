import { useState } from 'preact/hooks';
import { api, artifactDownloadUrl, metricHistory, MLFLOW, type FileInfo, type Run } from '../api';
import { LineChart } from '../chart';
import { href } from '../router';
import { num, Status, time, Title, useLoad } from '../ui';

export function RunView({ runId }: { runId: string }) {
  const state = useLoad(() => api<{ run: Run }>(`${MLFLOW}/runs/get?run_id=${encodeURIComponent(runId)}`), [runId]);
  return (
    <Status state={state}>
      {({ run }) => {
        const name = run.info.run_name || run.info.run_id;
        const metrics = [...(run.data.metrics ?? [])].sort((a, b) => a.key.localeCompare(b.key));
        const params = [...(run.data.params ?? [])].sort((a, b) => a.key.localeCompare(b.key));
        const tags = (run.data.tags ?? []).filter((t) => !t.key.startsWith('mlflow.log-model'));
        return (
          <section>
            <p class="crumbs">
              <a href={href('experiments')}>Experiments</a> / <a href={href('experiments', run.info.experiment_id)}>experiment {run.info.experiment_id}</a> /
            </p>
            <Title text={`Run ${name}`} />
            <dl class="facts">
              <dt>Run ID</dt>
              <dd>
                <code>{run.info.run_id}</code>
              </dd>
              <dt>Status</dt>
              <dd>{run.info.status}</dd>
              <dt>Started</dt>
              <dd>{time(run.info.start_time)}</dd>
              <dt>Ended</dt>
              <dd>{time(run.info.end_time)}</dd>
            </dl>
            <h2>Metric curves</h2>
            {metrics.length ? <Curves runs={[{ id: run.info.run_id, label: name }]} keys={metrics.map((m) => m.key)} /> : <p>No metrics.</p>}
            <h2>Metrics (latest)</h2>
            <KeyTable caption="Metrics" rows={metrics.map((m) => [m.key, num(m.value), String(m.step)])} headers={['Metric', 'Value', 'Step']} />
            <h2>Parameters</h2>
            <KeyTable caption="Parameters" rows={params.map((p) => [p.key, p.value])} headers={['Parameter', 'Value']} />
            <h2>Tags</h2>
            <KeyTable caption="Tags" rows={tags.map((t) => [t.key, t.value])} headers={['Tag', 'Value']} />
            <h2>Artifacts</h2>
            <Artifacts run={run} />
          </section>
        );
      }}
    </Status>
  );
}

export function KeyTable({ caption, headers, rows }: { caption: string; headers: string[]; rows: string[][] }) {
  if (!rows.length) return <p>No {caption.toLowerCase()}.</p>;
  return (
    <table>
      <caption class="visually-hidden">{caption}</caption>
      <thead>
        <tr>
          {headers.map((h) => (
            <th scope="col">{h}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map(([key, ...values]) => (
          <tr>
            <th scope="row">{key}</th>
            {values.map((v) => (
              <td>{v}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** One metric's history for each run, on one chart; the metric is chosen from `keys`. */
export function Curves({ runs, keys, initial }: { runs: { id: string; label: string }[]; keys: string[]; initial?: string }) {
  const [key, setKey] = useState(initial && keys.includes(initial) ? initial : keys[0]);
  const history = useLoad(() => Promise.all(runs.map(async (r) => ({ label: r.label, points: (await metricHistory(r.id, key)).map((m) => ({ x: m.step, y: m.value })) }))), [key, runs.map((r) => r.id).join()]);
  return (
    <div>
      <label for="curve-metric">Metric</label>{' '}
      <select id="curve-metric" value={key} onChange={(e) => setKey(e.currentTarget.value)}>
        {keys.map((k) => (
          <option value={k}>{k}</option>
        ))}
      </select>
      <Status state={history}>{(series) => <LineChart title={`${key} by step`} xLabel="step" series={series} />}</Status>
    </div>
  );
}

function Artifacts({ run }: { run: Run }) {
  const [path, setPath] = useState('');
  const state = useLoad(() => api<{ files?: FileInfo[]; root_uri?: string }>(`${MLFLOW}/artifacts/list?run_id=${encodeURIComponent(run.info.run_id)}${path ? `&path=${encodeURIComponent(path)}` : ''}`), [run.info.run_id, path]);
  return (
    <Status state={state}>
      {(data) => {
        const files = data.files ?? [];
        return (
          <>
            {path && (
              <p>
                In <code>{path}</code>{' '}
                <button type="button" onClick={() => setPath(path.split('/').slice(0, -1).join('/'))}>
                  Up one folder
                </button>
              </p>
            )}
            {files.length === 0 ? (
              <p>No artifacts.</p>
            ) : (
              <table>
                <caption class="visually-hidden">Artifacts</caption>
                <thead>
                  <tr>
                    <th scope="col">Path</th>
                    <th scope="col">Size (bytes)</th>
                  </tr>
                </thead>
                <tbody>
                  {files.map((f) => {
                    const download = artifactDownloadUrl(run.info.artifact_uri, f.path);
                    return (
                      <tr>
                        <td>
                          {f.is_dir ? (
                            <button type="button" class="link" onClick={() => setPath(f.path)}>
                              {f.path}/
                            </button>
                          ) : download ? (
                            <a href={download} download={f.path.split('/').pop()}>
                              {f.path}
                            </a>
                          ) : (
                            f.path
                          )}
                        </td>
                        <td class="num">{f.is_dir ? '' : (f.file_size ?? '–')}</td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            )}
          </>
        );
      }}
    </Status>
  );
}

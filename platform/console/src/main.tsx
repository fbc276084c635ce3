import { render } from 'preact';
import { useState } from 'preact/hooks';
import { apiToken } from './api';
import { href, useRoute } from './router';
import { Compare } from './views/compare';
import { Experiments, Runs } from './views/experiments';
import { LoopDetailView, Loops } from './views/loops';
import { ModelVersionView, ModelView, Models } from './views/models';
import { Monitoring, MonitoringModel } from './views/monitoring';
import { RunView } from './views/run';
import './app.css';

const SECTIONS = [
  { id: 'experiments', label: 'Experiments' },
  { id: 'models', label: 'Models' },
  { id: 'loops', label: 'Loops' },
  { id: 'monitoring', label: 'Monitoring' },
] as const;

function TokenInput() {
  const [token, setToken] = useState(apiToken.get());
  return (
    <form
      class="token"
      onSubmit={(e) => {
        e.preventDefault();
        apiToken.set(token.trim());
        location.reload();
      }}
    >
      <label for="api-token">API token</label>
      <input id="api-token" type="password" autocomplete="off" value={token} onInput={(e) => setToken(e.currentTarget.value)} />
      <button type="submit">{token && token === apiToken.get() ? 'Saved' : 'Use token'}</button>
    </form>
  );
}

function Page() {
  const route = useRoute();
  const [section, a, b, c] = route.parts;
  let view;
  if (section === 'experiments' && a && b === 'runs' && c) view = <RunView runId={c} />;
  else if (section === 'experiments' && a) view = <Runs experimentId={a} params={route.params} />;
  else if (section === 'runs' && a) view = <RunView runId={a} />;
  else if (section === 'compare') view = <Compare runIds={(route.params.get('runs') ?? '').split(',').filter(Boolean)} metric={route.params.get('metric') ?? undefined} />;
  else if (section === 'models' && a && b === 'versions' && c) view = <ModelVersionView name={a} version={c} />;
  else if (section === 'models' && a) view = <ModelView name={a} />;
  else if (section === 'models') view = <Models />;
  else if (section === 'loops' && a) view = <LoopDetailView id={a} />;
  else if (section === 'loops') view = <Loops params={route.params} />;
  else if (section === 'monitoring' && a) view = <MonitoringModel model={a} />;
  else if (section === 'monitoring') view = <Monitoring />;
  else view = <Experiments />;
  const current = SECTIONS.find((s) => s.id === section)?.id ?? (section === 'runs' || section === 'compare' ? 'experiments' : section ? undefined : 'experiments');
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById('main')?.focus())}>
        Skip to content
      </a>
      <header>
        <span class="brand">mlops console</span>
        <nav aria-label="Sections">
          <ul>
            {SECTIONS.map((s) => (
              <li>
                <a href={href(s.id)} aria-current={current === s.id ? 'page' : undefined}>
                  {s.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <TokenInput />
      </header>
      <main id="main" tabIndex={-1}>
        {view}
      </main>
    </>
  );
}

render(<Page />, document.getElementById('app')!);

// What the feature store's own /metrics says about one load phase, from the scrapes the
// bench takes just before and just after it (metrics-<phase>-before.txt / -after.txt in OUT):
// event-loop delay (prom-client's monitorEventLoopDelay, 10 ms resolution, reset at each
// scrape, so the "after" scrape covers the phase), GC count and time by diff, and the share
// of GetOnlineFeatures handler times over 2 ms.
import { existsSync, readFileSync } from 'node:fs';

const text = (out, name) => (existsSync(`${out}/${name}.txt`) ? readFileSync(`${out}/${name}.txt`, 'utf8') : undefined);

/** name{labels} -> value of a Prometheus text exposition. */
function samples(body) {
  const map = new Map();
  for (const line of (body ?? '').split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    map.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return map;
}

/** What the service's /metrics says about one phase (before/after scrapes). */
export function serverPhase(out, name) {
  const before = samples(text(out, `metrics-${name}-before`));
  const after = samples(text(out, `metrics-${name}-after`));
  if (after.size === 0) return undefined;
  const diff = (key) => (after.get(key) ?? 0) - (before.get(key) ?? 0);
  const gc = { count: 0, seconds: 0, major: 0 };
  for (const key of after.keys()) {
    if (key.startsWith('nodejs_gc_duration_seconds_count')) gc.count += diff(key);
    if (key.startsWith('nodejs_gc_duration_seconds_sum')) gc.seconds += diff(key);
    if (key === 'nodejs_gc_duration_seconds_count{kind="major"}') gc.major += diff(key);
  }
  const all = diff('mlops_feature_store_online_request_seconds_count{code="OK"}');
  const under2 = diff('mlops_feature_store_online_request_seconds_bucket{le="0.002",code="OK"}');
  return {
    lagP99: after.get('nodejs_eventloop_lag_p99_seconds') * 1e3,
    lagMax: after.get('nodejs_eventloop_lag_max_seconds') * 1e3,
    gc,
    handlerOver2ms: all ? (all - under2) / all : NaN,
    handlerMeanMs: all ? (diff('mlops_feature_store_online_request_seconds_sum{code="OK"}') / all) * 1e3 : NaN,
  };
}


import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';

export interface Loaded<T> {
  data?: T;
  error?: string;
  loading: boolean;
  reload: () => void;
}

/**
 * Runs `load` whenever `deps` change (what was shown goes: a new page never shows the old one's
 * rows), and again on `reload` (what is shown stays until the new answer replaces it). An
 * answer that arrives after newer deps is dropped.
 */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: string; loading: boolean; key?: string }>({ loading: true });
  const [tick, setTick] = useState(0);
  const key = JSON.stringify(deps);
  useEffect(() => {
    let current = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => current && setState({ data, loading: false, key }),
      (error: unknown) => current && setState({ error: error instanceof Error ? error.message : String(error), loading: false, key }),
    );
    return () => {
      current = false;
    };
  }, [key, tick]);
  // An answer for other deps (the previous page) is never shown, not even for one render.
  const fresh = state.key === key;
  return { data: fresh ? state.data : undefined, error: fresh ? state.error : undefined, loading: state.loading || !fresh, reload: () => setTick((t) => t + 1) };
}

/** Calls `tick` every `ms` while `active`. */
export function useInterval(tick: () => void, ms: number, active: boolean) {
  const saved = useRef(tick);
  saved.current = tick;
  useEffect(() => {
    if (!active) return undefined;
    const id = setInterval(() => saved.current(), ms);
    return () => clearInterval(id);
  }, [ms, active]);
}

export function Status<T>({ state, children }: { state: Loaded<T>; children: (data: T) => ComponentChildren }) {
  if (state.error) return <p role="alert" class="error">{state.error}</p>;
  if (state.data === undefined) return <p aria-busy="true">Loading…</p>;
  return <>{children(state.data)}</>;
}

/** The view's title: the page heading (focused on navigation, for screen readers) and the document title. */
export function Title({ children, text }: { children?: ComponentChildren; text: string }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${text} · mlops console`;
    ref.current?.focus();
  }, [text]);
  return (
    <h1 tabIndex={-1} ref={ref}>
      {children ?? text}
    </h1>
  );
}

export const time = (ms?: number | string | null) => (ms === undefined || ms === null || ms === '' ? '–' : new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z'));

export const num = (value?: number | null, digits = 4) => (value === undefined || value === null ? '–' : Number.isInteger(value) ? String(value) : value.toPrecision(digits));

export const duration = (ms?: number | null) => {
  if (ms === undefined || ms === null) return '–';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
};

/**
 * Server-side pages by token: the API hands the next page's token; the tokens of the pages
 * already seen make "Previous" work without a token of its own.
 */
export function usePager(reset: unknown[]) {
  const [tokens, setTokens] = useState<(string | undefined)[]>([undefined]);
  useEffect(() => setTokens([undefined]), reset);
  return {
    token: tokens[tokens.length - 1],
    page: tokens.length,
    next: (token: string) => setTokens((t) => [...t, token]),
    previous: () => setTokens((t) => (t.length > 1 ? t.slice(0, -1) : t)),
  };
}

export function Pager({ pager, nextToken, label, shown }: { pager: ReturnType<typeof usePager>; nextToken?: string; label: string; shown: number }) {
  return (
    <nav class="pager" aria-label={`${label} pages`}>
      <button type="button" onClick={pager.previous} disabled={pager.page === 1}>
        Previous page
      </button>
      <span aria-live="polite">
        Page {pager.page} ({shown} {label})
      </span>
      <button type="button" onClick={() => nextToken && pager.next(nextToken)} disabled={!nextToken}>
        Next page
      </button>
    </nav>
  );
}

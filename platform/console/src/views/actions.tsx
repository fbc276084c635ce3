import { useRef, useState } from 'preact/hooks';
import { api, type DeployAnswer } from '../api';

type Action = { kind: 'deploy'; version: string } | { kind: 'promote'; version: string } | { kind: 'rollback' };
type Strategy = 'full' | 'canary';

const percent = (share: number) => `${Math.round(share * 1000) / 10}%`;

/** What the registry answered, in a sentence. */
function said(action: Action, answer: Record<string, unknown>): string {
  if (action.kind === 'deploy') {
    const { version, strategy, share, correlationId } = answer as unknown as DeployAnswer;
    return `Deployment of version ${version} requested: ${strategy === 'canary' ? `canary at ${percent(share)} of the traffic` : 'full rollout'} (correlation ${correlationId}). Serving's answer shows under Traffic.`;
  }
  if (action.kind === 'promote') return `Version ${String(answer.champion)} is champion (was ${answer.previous_version ? `version ${String(answer.previous_version)}` : 'none'}).`;
  return answer.champion
    ? `Rolled back version ${String(answer.rolled_back_version)}: version ${String(answer.champion)} is champion again.`
    : `Rolled back version ${String(answer.rolled_back_version)}: the model has no champion now.`;
}

/**
 * Deploy this version (full, or a canary with a traffic share), promote it to champion, or roll
 * the champion back to the previous one: each asks for a confirmation in a dialog (promote and
 * rollback with a reason), then shows what the registry answered. The registry checks the API
 * token (the header's *API token*).
 */
export function VersionActions({ name, version, onDone }: { name: string; version: string; onDone: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [action, setAction] = useState<Action>();
  const [reason, setReason] = useState('');
  const [strategy, setStrategy] = useState<Strategy>('canary');
  const [share, setShare] = useState('0.1');
  const [result, setResult] = useState<{ ok: boolean; text: string }>();
  const ask = (next: Action) => {
    setAction(next);
    setReason('');
    dialog.current?.showModal();
  };
  const confirm = async () => {
    dialog.current?.close();
    if (!action) return;
    const path = `/registry/models/${encodeURIComponent(name)}/${action.kind}`;
    const why = reason.trim() || (action.kind === 'promote' ? 'promoted from the web console' : 'rolled back from the web console');
    const body =
      action.kind === 'deploy'
        ? { version: Number(action.version), strategy, ...(strategy === 'canary' ? { share: Number(share) } : {}) }
        : action.kind === 'promote'
          ? { version: action.version, reason: why }
          : { reason: why };
    try {
      setResult({ ok: true, text: said(action, await api<Record<string, unknown>>(path, body)) });
      onDone();
    } catch (error) {
      setResult({ ok: false, text: error instanceof Error ? error.message : String(error) });
    }
  };
  const title =
    action?.kind === 'deploy'
      ? `Deploy version ${action.version} of ${name}?`
      : action?.kind === 'promote'
        ? `Promote version ${action.version} of ${name} to champion?`
        : `Roll back the champion of ${name}?`;
  return (
    <div class="actions">
      <button type="button" onClick={() => ask({ kind: 'deploy', version })}>
        Deploy version {version}
      </button>{' '}
      <button type="button" onClick={() => ask({ kind: 'promote', version })}>
        Promote version {version}
      </button>{' '}
      <button type="button" class="danger" onClick={() => ask({ kind: 'rollback' })}>
        Roll back champion
      </button>
      <p role="status">{result && <span class={result.ok ? 'pass' : 'fail'}>{result.text}</span>}</p>
      <dialog ref={dialog} aria-labelledby="action-title">
        <form
          method="dialog"
          onSubmit={(e) => {
            e.preventDefault();
            void confirm();
          }}
        >
          <h2 id="action-title">{title}</h2>
          {action?.kind === 'deploy' ? (
            <>
              <fieldset>
                <legend>Strategy</legend>
                <label>
                  <input type="radio" name="strategy" value="full" checked={strategy === 'full'} onChange={() => setStrategy('full')} /> Full: all the traffic
                </label>
                <br />
                <label>
                  <input type="radio" name="strategy" value="canary" checked={strategy === 'canary'} onChange={() => setStrategy('canary')} /> Canary: a share of the traffic beside the champion
                </label>
              </fieldset>
              {strategy === 'canary' && (
                <p>
                  <label for="action-share">Canary share (between 0 and 1)</label>{' '}
                  <input id="action-share" type="number" min="0.01" max="0.99" step="0.01" required value={share} onInput={(e) => setShare(e.currentTarget.value)} />
                </p>
              )}
            </>
          ) : (
            <p>
              <label for="action-reason">Reason</label> <input id="action-reason" value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
            </p>
          )}
          <button type="submit">Confirm</button>{' '}
          <button type="button" onClick={() => dialog.current?.close()}>
            Cancel
          </button>
        </form>
      </dialog>
    </div>
  );
}

import { useRef, useState } from 'preact/hooks';
import { api } from '../api';

type Action = { kind: 'promote'; version: string } | { kind: 'rollback' };

/**
 * Promote this version to champion, or roll the champion back to the previous one: each asks
 * for a reason and a confirmation in a dialog, then shows what the registry answered. The
 * registry checks the API token (the header's *API token*).
 */
export function VersionActions({ name, version, onDone }: { name: string; version: string; onDone: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [action, setAction] = useState<Action>();
  const [reason, setReason] = useState('');
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
    try {
      const answer = await api<{ champion?: number | null; previous_version?: number | null; rolled_back_version?: number }>(
        path,
        action.kind === 'promote' ? { version: action.version, reason: why } : { reason: why },
      );
      setResult({
        ok: true,
        text:
          action.kind === 'promote'
            ? `Version ${answer.champion} is champion (was ${answer.previous_version ? `version ${answer.previous_version}` : 'none'}).`
            : answer.champion
              ? `Rolled back version ${answer.rolled_back_version}: version ${answer.champion} is champion again.`
              : `Rolled back version ${answer.rolled_back_version}: the model has no champion now.`,
      });
      onDone();
    } catch (error) {
      setResult({ ok: false, text: error instanceof Error ? error.message : String(error) });
    }
  };
  const title = action?.kind === 'promote' ? `Promote version ${action.version} of ${name} to champion?` : `Roll back the champion of ${name}?`;
  return (
    <div class="actions">
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
          <p>
            <label for="action-reason">Reason</label> <input id="action-reason" value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
          </p>
          <button type="submit">Confirm</button>{' '}
          <button type="button" onClick={() => dialog.current?.close()}>
            Cancel
          </button>
        </form>
      </dialog>
    </div>
  );
}

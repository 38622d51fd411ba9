/** Small pieces every console page uses: loading a report, showing an error, a modal dialog. */
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api.js';

export interface Loaded<T> {
  data: T | undefined;
  error: Error | undefined;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` now and whenever `deps` change or `reload()` is called; the last answer wins. */
export function useLoad<T>(load: () => Promise<T>, deps: readonly unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  const seq = useRef(0);
  useEffect(() => {
    const mine = ++seq.current;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => mine === seq.current && setState({ data, loading: false }),
      (error: unknown) => mine === seq.current && setState((s) => ({ data: s.data, error: error instanceof Error ? error : new Error(String(error)), loading: false })),
    );
  }, [...deps, tick]); // deps are the caller's
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}

export function ErrorNote(props: { error: Error | undefined }) {
  if (props.error === undefined) return null;
  const e = props.error;
  const what = e instanceof ApiError ? `${e.status}${e.errorType ? ` ${e.errorType}` : ''}: ${e.message}` : e.message;
  return (
    <p class="error" role="alert">
      {what}
    </p>
  );
}

export function Loading(props: { loaded: { loading: boolean } }) {
  return props.loaded.loading ? <span class="muted loading" role="status">Loading…</span> : null;
}

/** A table that scrolls sideways inside its box on a narrow screen instead of widening the page. */
export function TableBox(props: { label: string; children: ComponentChildren }) {
  return (
    <div class="table-box" role="region" aria-label={props.label} tabIndex={0}>
      <table>{props.children}</table>
    </div>
  );
}

/**
 * A modal `<dialog>`: focus moves into it, Escape closes it, and focus returns to what opened it.
 * Rendered only while open.
 */
export function Modal(props: { title: string; onClose: () => void; children: ComponentChildren }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    d?.showModal();
    return () => {
      d?.close();
      opener?.focus();
    };
  }, []);
  return (
    <dialog ref={ref} aria-label={props.title} onCancel={(e) => (e.preventDefault(), props.onClose())}>
      <h2>{props.title}</h2>
      {props.children}
    </dialog>
  );
}

/** "Are you sure?" with the action named on its button; shows the call's error if it fails. */
export function Confirm(props: { title: string; message: ComponentChildren; action: string; danger?: boolean; onConfirm: () => Promise<void>; onClose: () => void }) {
  const [error, setError] = useState<Error>();
  const [busy, setBusy] = useState(false);
  const run = async () => {
    setBusy(true);
    try {
      await props.onConfirm();
      props.onClose();
    } catch (err) {
      setError(err instanceof Error ? err : new Error(String(err)));
      setBusy(false);
    }
  };
  return (
    <Modal title={props.title} onClose={props.onClose}>
      <div>{props.message}</div>
      <ErrorNote error={error} />
      <div class="actions">
        <button type="button" class={props.danger ? 'danger' : 'primary'} disabled={busy} onClick={() => void run()}>
          {props.action}
        </button>
        <button type="button" onClick={props.onClose}>
          Cancel
        </button>
      </div>
    </Modal>
  );
}

/** A secret shown once, with a copy button; the page keeps it only while this is on screen. */
export function SecretOnce(props: { secret: string; onDone: () => void }) {
  const [copied, setCopied] = useState('');
  const copy = () =>
    navigator.clipboard.writeText(props.secret).then(
      () => setCopied('Copied.'),
      () => setCopied('Copy failed: select the text and copy it.'),
    );
  return (
    <Modal title="Copy the secret now" onClose={props.onDone}>
      <p>This is the only time the secret is shown. It is not stored in this page.</p>
      <p>
        <label>
          Secret
          <input class="secret" readOnly value={props.secret} data-testid="new-secret" onFocus={(e) => e.currentTarget.select()} />
        </label>
      </p>
      <p aria-live="polite">{copied}</p>
      <div class="actions">
        <button type="button" class="primary" onClick={() => void copy()}>
          Copy
        </button>
        <button type="button" onClick={props.onDone}>
          Done
        </button>
      </div>
    </Modal>
  );
}

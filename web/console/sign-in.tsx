/**
 * Sign-in: the credential is typed into a password field, sent once to POST /console/api/session
 * and dropped (the field is cleared whatever the answer). The browser keeps only the HttpOnly
 * session cookie the gateway sets; this page keeps the session's CSRF token in memory.
 */
import { useRef, useState } from 'preact/hooks';
import { signIn, type Session } from './api.js';
import { ErrorNote } from './ui.js';

export function SignIn(props: { onSignedIn: (s: Session) => void; expired: boolean }) {
  const field = useRef<HTMLInputElement>(null);
  const [error, setError] = useState<Error>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const input = field.current;
    if (input === null || input.value === '') return;
    const credential = input.value;
    input.value = '';
    setBusy(true);
    setError(undefined);
    try {
      props.onSignedIn(await signIn(credential));
    } catch (err) {
      setError(err instanceof Error ? err : new Error(String(err)));
      setBusy(false);
      input.focus();
    }
  };
  return (
    <section class="sign-in" aria-labelledby="sign-in-title">
      <h1 id="sign-in-title">Sign in to the console</h1>
      {props.expired ? <p role="status">Your session ended. Sign in again.</p> : null}
      <form onSubmit={(e) => void submit(e)}>
        <label for="credential">Admin credential</label>
        <input
          id="credential"
          ref={field}
          type="password"
          name="credential"
          autocomplete="off"
          spellcheck={false}
          required
          autoFocus
          aria-describedby="credential-help"
        />
        <p id="credential-help" class="muted">
          ADMIN_TOKEN, a named admin credential (<code>fgw_ad_…</code>) or a one-time sign-in code (<code>fgw_os_…</code>). It is not stored in the browser.
        </p>
        <ErrorNote error={error} />
        <button type="submit" class="primary" disabled={busy}>
          Sign in
        </button>
      </form>
    </section>
  );
}

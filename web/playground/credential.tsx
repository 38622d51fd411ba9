/**
 * Signing the playground in with a gateway key or a browser token. The credential lives in the
 * App's memory only: the input is cleared as soon as it is accepted, nothing is written to storage
 * or cookies, and afterwards only a masked form is shown (the same prefix the admin API displays).
 * A pasted fal key is refused here, before it goes anywhere.
 */
import { useState } from 'preact/hooks';
import { GatewayHttpError, ownUsage } from './gateway-api.js';

const KINDS = [
  { prefix: 'fgw_sk_', label: 'secret key' },
  { prefix: 'fgw_pk_', label: 'publishable key' },
  { prefix: 'fgw_tk_', label: 'browser token' },
] as const;

export interface SignedIn {
  credential: string;
  masked: string;
  kind: string;
  name: string | null;
}

/**
 * Why a 403 at sign-in ends here: an origin-bound credential (a publishable key, or a token with
 * allowed_origins) is accepted on this page only when its origins include the gateway's own: the
 * page's reads are same-origin GETs, which browsers send without an Origin header and which the
 * gateway takes as its own origin (Sec-Fetch-Site: same-origin).
 */
const originBound = () =>
  `. If this credential is bound to allowed origins (a publishable key, or a token with allowed_origins), they must include this gateway's own origin, ${location.origin}, for it to work here.`;

/** `fgw_sk_` plus four characters for keys (what the admin API shows as `prefix`); tokens: the prefix only. */
export function mask(credential: string): string {
  if (credential.startsWith('fgw_tk_')) return 'fgw_tk_…';
  return `${credential.slice(0, 11)}…`;
}

export function SignIn(props: { onSignedIn: (s: SignedIn) => void }) {
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (e: Event) => {
    e.preventDefault();
    const credential = text.trim();
    const kind = KINDS.find((k) => credential.startsWith(k.prefix));
    if (!kind) {
      setError('Paste a gateway key (fgw_sk_…, fgw_pk_…) or a browser token (fgw_tk_…). Never your fal key.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const usage = await ownUsage(credential);
      setText('');
      props.onSignedIn({ credential, masked: mask(credential), kind: kind.label, name: usage.name });
    } catch (err) {
      if (!(err instanceof GatewayHttpError)) setError('The gateway could not be reached');
      else setError(`${err.status} ${err.errorType ?? ''}: ${err.detail}${err.status === 403 ? originBound() : ''}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="sign-in" onSubmit={(e) => void submit(e)} aria-label="Sign in">
      <label for="credential">Gateway key or browser token</label>
      <div class="row">
        <input
          id="credential"
          type="password"
          autocomplete="off"
          spellcheck={false}
          placeholder="fgw_sk_… / fgw_pk_… / fgw_tk_…"
          value={text}
          disabled={busy}
          onInput={(e) => setText(e.currentTarget.value)}
        />
        <button type="submit" class="primary" disabled={busy || text.trim() === ''}>
          Use
        </button>
      </div>
      <p class="help">Held in this page's memory only: never stored, never sent anywhere but this gateway's API, gone when you leave.</p>
      {error && (
        <p class="error" role="alert" id="sign-in-error">
          {error}
        </p>
      )}
    </form>
  );
}

export function SignedInBar(props: { who: SignedIn; onSignOut: () => void }) {
  return (
    <div class="signed-in">
      <span>
        Signed in with a {props.who.kind} <code>{props.who.masked}</code>
        {props.who.name && <> ({props.who.name})</>}
      </span>
      <button type="button" onClick={props.onSignOut}>
        Sign out
      </button>
    </div>
  );
}

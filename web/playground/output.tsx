/** What a run shows as it goes: status and logs, then images, cost, timings and the snippets. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { formatMicro } from '../shared/money.js';
import { GatewayHttpError } from './gateway-api.js';
import { JobFailed, type Charge, type Outcome, type StatusUpdate, type Submitted } from './run.js';
import type { Snippets } from './snippets.js';

const STATUS_TEXT: Record<StatusUpdate['status'], string> = { IN_QUEUE: 'In queue', IN_PROGRESS: 'Running', COMPLETED: 'Completed' };

export function Progress(props: { submitted: Submitted | null; status: StatusUpdate | null; onCancel: (() => void) | null }) {
  const { status, submitted } = props;
  const logs = status?.logs ?? [];
  return (
    <section class="panel progress" aria-labelledby="progress-title">
      <h2 id="progress-title">Status</h2>
      <p class="status-line" aria-live="polite">
        <strong data-status={status?.status ?? 'SUBMITTING'}>{status ? STATUS_TEXT[status.status] : 'Submitting…'}</strong>
        {status?.status === 'IN_QUEUE' && status.queue_position !== undefined && <span class="queue-position"> · position {status.queue_position} in the queue</span>}
        {status?.error && <span class="error"> · {status.error}</span>}
        {props.onCancel && (
          <button type="button" class="cancel" onClick={props.onCancel}>
            Cancel
          </button>
        )}
      </p>
      {submitted && (
        <p class="ids">
          Request <code>{submitted.requestId}</code>
          {submitted.quotedMicro !== null && <> · quoted {formatMicro(submitted.quotedMicro)}</>}
          {submitted.megapixels !== null && <> for {submitted.megapixels} MP</>}
        </p>
      )}
      <ol class="logs" aria-label="Logs">
        {logs.map((l, i) => (
          <li key={i}>
            <time>{l.timestamp.slice(11, 23)}</time> {l.message}
          </li>
        ))}
      </ol>
    </section>
  );
}

function ChargeText(props: { charge: Charge | null }) {
  const { charge } = props;
  if (charge === null) return <>unknown (the usage read failed)</>;
  return (
    <>
      {formatMicro(charge.micro)}
      {charge.pending && <small> (a reservation is still held: not settled yet)</small>}
      {charge.shared && <small> (other requests of this credential were in flight: may include theirs)</small>}
    </>
  );
}

/** Moves keyboard focus to a panel's heading when it appears (the Generate button is disabled meanwhile). */
function useFocusOnMount() {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => ref.current?.focus(), []);
  return ref;
}

export function ErrorBox(props: { error: Error }) {
  const heading = useFocusOnMount();
  const failed = props.error instanceof JobFailed ? props.error : null;
  const e = failed ? failed.failure : props.error;
  const http = e instanceof GatewayHttpError ? e : null;
  const headline = http ? `${http.status} ${http.errorType ?? ''}`.trim() : 'Error';
  const hint: Record<number, string> = {
    401: 'The gateway does not know this credential (or it expired): sign in again.',
    402: 'The budget cannot cover this request; nothing was sent to fal.',
    422: 'The input was refused before it reached fal.',
    429: 'Too many requests for this key right now.',
  };
  return (
    <div class="panel error-box" role="alert">
      <h2 ref={heading} tabIndex={-1}>
        {headline}
      </h2>
      <p class="detail">{http ? http.detail : e.message}</p>
      {http && hint[http.status] && <p class="help">{hint[http.status]}</p>}
      {http?.retryAfter && <p class="help">Retry after {http.retryAfter} s.</p>}
      {failed && (
        <p>
          Charged: <strong class="cost" data-micro={failed.charge?.micro}><ChargeText charge={failed.charge} /></strong>
        </p>
      )}
      {http?.requestId && (
        <p class="help">
          Gateway request id <code>{http.requestId}</code>
        </p>
      )}
    </div>
  );
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

export function Result(props: { outcome: Outcome; submitted: Submitted | null }) {
  const { output, charge, timings, billableUnits } = props.outcome;
  const heading = useFocusOnMount();
  return (
    <section class="panel result" aria-labelledby="result-title">
      <h2 id="result-title" ref={heading} tabIndex={-1}>
        Result
      </h2>
      <div class="images">
        {output.images.map((img, i) => {
          const image = <img src={img.url} width={img.width} height={img.height} alt={`Image ${i + 1} for: ${output.prompt}`} />;
          // Only fal's web URLs become links; anything else (a data: or script URL) is never navigable.
          return /^https?:\/\//.test(img.url) ? (
            <a key={i} href={img.url} target="_blank" rel="noopener noreferrer">
              {image}
            </a>
          ) : (
            <span key={i}>{image}</span>
          );
        })}
      </div>
      <dl class="facts">
        <dt>Charged</dt>
        <dd class="cost" data-micro={charge?.micro}>
          <ChargeText charge={charge} />
        </dd>
        {props.submitted?.quotedMicro != null && (
          <>
            <dt>Quoted at submit</dt>
            <dd>{formatMicro(props.submitted.quotedMicro)}</dd>
          </>
        )}
        {billableUnits !== null && (
          <>
            <dt>Billed by fal</dt>
            <dd>
              {billableUnits} billable unit{billableUnits === '1' ? '' : 's'} <small>(x-fal-billable-units)</small>
            </dd>
          </>
        )}
        {props.submitted?.budgetRemainingMicro != null && (
          <>
            <dt>Budget left</dt>
            <dd>{formatMicro(props.submitted.budgetRemainingMicro)}</dd>
          </>
        )}
        <dt>Queued</dt>
        <dd class="t-queued">{seconds(timings.queuedMs)}</dd>
        <dt>Running</dt>
        <dd class="t-running">{seconds(timings.runningMs)}</dd>
        <dt>Total</dt>
        <dd class="t-total">{seconds(timings.totalMs)}</dd>
        <dt>Seed</dt>
        <dd>
          <code class="seed">{props.outcome.seed}</code>
        </dd>
      </dl>
    </section>
  );
}

const TABS = [
  { id: 'curl', label: 'curl' },
  { id: 'js', label: 'JavaScript (@fal-ai/client)' },
  { id: 'python', label: 'Python (fal_client)' },
] as const;
type TabId = (typeof TABS)[number]['id'];

export function SnippetTabs(props: { snippets: Snippets }) {
  const [tab, setTab] = useState<TabId>('curl');
  const [copied, setCopied] = useState(false);
  const text = props.snippets[tab];
  const select = (id: TabId) => {
    setTab(id);
    setCopied(false);
  };
  // The tabs pattern (WAI-ARIA APG): one tab stop, arrow keys move between the languages.
  const onKey = (e: KeyboardEvent) => {
    const step = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
    if (step === 0 || !(e.target instanceof HTMLElement) || e.target.getAttribute('role') !== 'tab') return;
    const next = TABS[(TABS.findIndex((t) => t.id === tab) + step + TABS.length) % TABS.length];
    if (!next) return;
    e.preventDefault();
    select(next.id);
    document.getElementById(`tab-${next.id}`)?.focus();
  };
  const copy = () => {
    void navigator.clipboard?.writeText(text).then(() => setCopied(true), () => setCopied(false));
  };
  return (
    <section class="panel snippets" aria-labelledby="snippets-title">
      <h2 id="snippets-title">This request as code</h2>
      <p class="help">
        The credential is read from <code>$FAL_GATEWAY_KEY</code>; set it to your gateway key.
      </p>
      <div role="tablist" aria-label="Language" onKeyDown={onKey}>
        {TABS.map((t) => (
          <button
            key={t.id}
            type="button"
            role="tab"
            id={`tab-${t.id}`}
            aria-selected={tab === t.id}
            aria-controls="snippet"
            tabIndex={tab === t.id ? 0 : -1}
            onClick={() => select(t.id)}
          >
            {t.label}
          </button>
        ))}
        <button type="button" class="copy" onClick={copy}>
          {copied ? 'Copied' : 'Copy'}
        </button>
      </div>
      <pre id="snippet" role="tabpanel" aria-labelledby={`tab-${tab}`} tabIndex={0}>
        <code>{text}</code>
      </pre>
    </section>
  );
}

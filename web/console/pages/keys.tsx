/**
 * Keys: every key with its spend, what is left, limits, last use and status. An admin creates
 * (the secret is shown once), edits, rotates and revokes, each behind a confirmation; a viewer only
 * reads.
 */
import { useState } from 'preact/hooks';
import { formatUsd } from '../../shared/money.js';
import { api } from '../api.js';
import type { PageProps } from '../app.js';
import { formatCount, formatTime } from '../format.js';
import { KeyForm } from '../key-form.js';
import type { KeyReport, PeriodView } from '../types.js';
import { Confirm, ErrorNote, Loading, SecretOnce, TableBox, useLoad } from '../ui.js';

type Dialog = { kind: 'create' } | { kind: 'edit'; key: KeyReport } | { kind: 'rotate'; key: KeyReport } | { kind: 'revoke'; key: KeyReport } | { kind: 'secret'; secret: string };

/** The tightest remaining budget of a key (the one that refuses first), as text. */
function remaining(k: KeyReport): string {
  const views = [k.usage.lifetime, k.usage.day, k.usage.month];
  const limited = views.filter((v): v is PeriodView & { remaining_usd: number } => v.remaining_usd !== null);
  if (limited.length === 0) return 'no budget';
  const least = limited.reduce((a, b) => (b.remaining_usd < a.remaining_usd ? b : a));
  return formatUsd(least.remaining_usd);
}

export function KeysPage(props: PageProps) {
  const keys = useLoad(() => api<{ keys: KeyReport[] }>('GET', '/admin/keys'), []);
  const [dialog, setDialog] = useState<Dialog | null>(null);
  const [grace, setGrace] = useState('3600');
  const close = () => setDialog(null);
  const done = (secret: string | null) => {
    keys.reload();
    setDialog(secret === null ? null : { kind: 'secret', secret });
  };

  return (
    <div>
      <div class="toolbar">
        {props.canEdit ? (
          <button type="button" class="primary" onClick={() => setDialog({ kind: 'create' })}>
            Create key
          </button>
        ) : null}
        <button type="button" onClick={keys.reload}>
          Refresh
        </button>
        <Loading loaded={keys} />
      </div>
      <ErrorNote error={keys.error} />
      {keys.data ? (
        <TableBox label="Keys">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Team</th>
              <th scope="col">Kind</th>
              <th scope="col" class="num">
                Spend
              </th>
              <th scope="col" class="num">
                Remaining
              </th>
              <th scope="col" class="num">
                RPM
              </th>
              <th scope="col" class="num">
                Concurrency
              </th>
              <th scope="col">Last used</th>
              <th scope="col">Status</th>
              {props.canEdit ? <th scope="col">Actions</th> : null}
            </tr>
          </thead>
          <tbody data-testid="keys">
            {keys.data.keys.length === 0 ? (
              <tr>
                <td colSpan={10}>No keys yet.</td>
              </tr>
            ) : null}
            {keys.data.keys.map((k) => (
              <tr key={k.id} data-key-id={k.id}>
                <th scope="row">
                  {k.name}
                  <div class="muted small">
                    {k.id} · {k.prefix}…
                  </div>
                </th>
                <td>{k.team ?? '—'}</td>
                <td>{k.kind}</td>
                <td class="num">{formatUsd(k.usage.lifetime.spent_usd)}</td>
                <td class="num">{remaining(k)}</td>
                <td class="num">{formatCount(k.rpm)}</td>
                <td class="num">{formatCount(k.max_concurrency)}</td>
                <td>{formatTime(k.last_used_at)}</td>
                <td data-testid="status">
                  <span class={`status ${k.status}`}>{k.status}</span>
                </td>
                {props.canEdit ? (
                  <td class="row-actions">
                    {k.status === 'revoked' ? null : (
                      <>
                        <button type="button" onClick={() => setDialog({ kind: 'edit', key: k })} aria-label={`Edit ${k.name}`}>
                          Edit
                        </button>
                        <button type="button" onClick={() => setDialog({ kind: 'rotate', key: k })} aria-label={`Rotate ${k.name}`}>
                          Rotate
                        </button>
                        <button type="button" class="danger" onClick={() => setDialog({ kind: 'revoke', key: k })} aria-label={`Revoke ${k.name}`}>
                          Revoke
                        </button>
                      </>
                    )}
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </TableBox>
      ) : null}

      {dialog?.kind === 'create' ? <KeyForm editing={null} onSaved={done} onClose={close} /> : null}
      {dialog?.kind === 'edit' ? <KeyForm editing={dialog.key} onSaved={done} onClose={close} /> : null}
      {dialog?.kind === 'secret' ? <SecretOnce secret={dialog.secret} onDone={close} /> : null}
      {dialog?.kind === 'revoke' ? (
        <Confirm
          title={`Revoke ${dialog.key.name}?`}
          message={<p>Every request with this key, and with browser tokens minted from it, gets 401 from now on. Its spending history stays. This cannot be undone.</p>}
          action="Revoke key"
          danger
          onClose={close}
          onConfirm={async () => {
            await api('DELETE', `/admin/keys/${encodeURIComponent(dialog.key.id)}`);
            keys.reload();
          }}
        />
      ) : null}
      {dialog?.kind === 'rotate' ? (
        <Confirm
          title={`Rotate ${dialog.key.name}?`}
          message={
            <>
              <p>A new secret replaces the current one; history, budgets and limits stay with the key.</p>
              <label>
                The old secret keeps working for (seconds)
                <input inputMode="numeric" value={grace} onInput={(e) => setGrace(e.currentTarget.value)} />
              </label>
            </>
          }
          action="Rotate key"
          onClose={close}
          onConfirm={async () => {
            const g = Number(grace);
            if (!/^\d{1,7}$/.test(grace)) throw new Error('The grace period is a whole number of seconds.');
            const rotated = await api<{ key: string }>('POST', `/admin/keys/${encodeURIComponent(dialog.key.id)}/rotate`, { grace_seconds: g });
            keys.reload();
            // Confirm closes itself after this resolves; the secret dialog opens after that.
            setTimeout(() => setDialog({ kind: 'secret', secret: rotated.key }), 0);
          }}
        />
      ) : null}
    </div>
  );
}

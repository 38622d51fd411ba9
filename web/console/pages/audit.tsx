/** The audit trail of admin actions (newest first, page by page) and fal reconciliation per day. */
import { useState } from 'preact/hooks';
import { formatUsd } from '../../shared/money.js';
import { api, optional, query } from '../api.js';
import type { PageProps } from '../app.js';
import { formatTime, periodStarts } from '../format.js';
import type { AuditEntry, ReconciliationDay } from '../types.js';
import { ErrorNote, Loading, TableBox, useLoad } from '../ui.js';

interface AuditPage {
  entries: AuditEntry[];
  next_cursor: string | null;
}

/** What changed between the before and after views, field by field. */
function changes(e: AuditEntry): string {
  const obj = (v: unknown) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : {});
  const before = obj(e.before);
  const after = obj(e.after);
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  const diff = keys.filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
  if (e.before === null) return 'created';
  if (e.after === null) return 'deleted';
  return diff.map((k) => `${k}: ${JSON.stringify(before[k] ?? null)} → ${JSON.stringify(after[k] ?? null)}`).join('; ') || 'no field changed';
}

function Reconciliation() {
  const loaded = useLoad(async () => {
    const now = new Date();
    const from = new Date(Date.parse(periodStarts(now).day) - 29 * 86_400_000).toISOString();
    return optional<{ configured?: boolean; days: ReconciliationDay[] }>(`/admin/reconciliation${query({ from, to: now.toISOString() })}`);
  }, []);
  // Not configured: no reconciliation API (404) or no FAL_ADMIN_KEY and nothing stored.
  const notConfigured = loaded.data === null || (loaded.data?.configured === false && loaded.data.days.length === 0);
  return (
    <section class="card wide" aria-labelledby="recon-title">
      <h2 id="recon-title">Reconciliation with fal (last 30 days)</h2>
      <Loading loaded={loaded} />
      <ErrorNote error={loaded.error} />
      {notConfigured ? <p data-testid="reconciliation">Not configured on this gateway.</p> : null}
      {loaded.data && !notConfigured ? (
        loaded.data.days.length === 0 ? (
          <p data-testid="reconciliation">No reconciliation has run in this range.</p>
        ) : (
          <TableBox label="Reconciliation per day">
            <thead>
              <tr>
                <th scope="col">Day (UTC)</th>
                <th scope="col">Status</th>
                <th scope="col" class="num">
                  Buckets
                </th>
                <th scope="col" class="num">
                  Differences
                </th>
                <th scope="col" class="num">
                  Pending
                </th>
                <th scope="col" class="num">
                  Difference
                </th>
              </tr>
            </thead>
            <tbody data-testid="reconciliation">
              {loaded.data.days.map((d) => (
                <tr key={d.day}>
                  <th scope="row">{d.day}</th>
                  <td>
                    <span class={`status ${d.status}`}>{d.status}</span>
                  </td>
                  <td class="num">{d.buckets}</td>
                  <td class="num">{d.differences}</td>
                  <td class="num">{d.pending}</td>
                  <td class="num">{formatUsd(d.difference_usd)}</td>
                </tr>
              ))}
            </tbody>
          </TableBox>
        )
      ) : null}
    </section>
  );
}

export function AuditPage(_props: PageProps) {
  const [filter, setFilter] = useState({ actor: '', action: '', target: '' });
  const [applied, setApplied] = useState(filter);
  const [extra, setExtra] = useState<AuditPage | null>(null);
  const first = useLoad(() => api<AuditPage>('GET', `/admin/audit${query({ ...applied, limit: 100 })}`), [applied]);
  const entries = [...(first.data?.entries ?? []), ...(extra?.entries ?? [])];
  const cursor = extra ? extra.next_cursor : (first.data?.next_cursor ?? null);
  const [moreError, setMoreError] = useState<Error>();
  const more = async () => {
    if (cursor === null) return;
    try {
      const page = await api<AuditPage>('GET', `/admin/audit${query({ ...applied, limit: 100, cursor })}`);
      setExtra({ entries: [...(extra?.entries ?? []), ...page.entries], next_cursor: page.next_cursor });
    } catch (err) {
      setMoreError(err instanceof Error ? err : new Error(String(err)));
    }
  };
  return (
    <div>
      <form
        class="filters"
        aria-label="Filter the audit trail"
        onSubmit={(e) => {
          e.preventDefault();
          setExtra(null);
          setApplied(filter);
        }}
      >
        {(['actor', 'action', 'target'] as const).map((f) => (
          <label key={f}>
            {f[0]?.toUpperCase()}
            {f.slice(1)}
            <input name={f} value={filter[f]} onInput={(e) => setFilter({ ...filter, [f]: e.currentTarget.value })} />
          </label>
        ))}
        <button type="submit" class="primary">
          Apply
        </button>
      </form>
      <Loading loaded={first} />
      <ErrorNote error={first.error ?? moreError} />
      <TableBox label="Audit trail">
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Actor</th>
            <th scope="col">Action</th>
            <th scope="col">Target</th>
            <th scope="col">Change</th>
            <th scope="col">Client IP</th>
          </tr>
        </thead>
        <tbody data-testid="audit">
          {entries.length === 0 && !first.loading ? (
            <tr>
              <td colSpan={6}>No entries.</td>
            </tr>
          ) : null}
          {entries.map((e) => (
            <tr key={e.id}>
              <td>{formatTime(e.at)}</td>
              <td>{e.actor}</td>
              <td>{e.action}</td>
              <td>{e.target ?? '—'}</td>
              <td class="change">{changes(e)}</td>
              <td>{e.client_ip ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </TableBox>
      {cursor !== null ? (
        <button type="button" onClick={() => void more()}>
          Load more
        </button>
      ) : null}
      <Reconciliation />
    </div>
  );
}

/**
 * Requests: the newest ledger rows (GET /admin/requests), filtered, page by page, with a CSV of
 * exactly the rows on screen. A queue request's images come from fal's stored result (thumbnails.tsx);
 * a sync_mode body's data: URI is never shown (the API passes none on; the CSP refuses data: images).
 */
import { useState } from 'preact/hooks';
import { formatUsd } from '../../shared/money.js';
import { api, query } from '../api.js';
import type { PageProps } from '../app.js';
import { csvDocument, download } from '../csv.js';
import { formatMp, formatTime } from '../format.js';
import type { RequestPage as Page, RequestView as RequestRow } from '../types.js';
import { AUTO_THUMBNAIL_ROWS, Thumbnails } from '../thumbnails.js';
import { ErrorNote, Loading, TableBox, useLoad } from '../ui.js';

interface Filters {
  key_id: string;
  team: string;
  state: string;
  flag: string;
  from: string;
  to: string;
}
const EMPTY: Filters = { key_id: '', team: '', state: '', flag: '', from: '', to: '' };

export function flagsOf(r: RequestRow): string[] {
  return (Object.keys(r.flags) as (keyof RequestRow['flags'])[]).filter((f) => r.flags[f]);
}

/** What the row cost: the settled amount, or the reservation while it is open; nothing once released. */
function cost(r: RequestRow): string {
  if (r.state === 'settled') return formatUsd(r.cost_usd);
  if (r.state === 'reserved') return `${formatUsd(r.quoted_usd)} reserved`;
  return formatUsd(0);
}

const COLUMNS = ['created_at', 'key_id', 'key_name', 'team', 'operation', 'state', 'outcome', 'http_status', 'megapixels', 'images', 'billed_units', 'quoted_usd', 'cost_usd', 'flags', 'fal_request_id', 'end_user', 'id'] as const;

export function RequestsPage(_props: PageProps) {
  const [form, setForm] = useState<Filters>(EMPTY);
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const [more, setMore] = useState<{ rows: RequestRow[]; cursor: string | null } | null>(null);
  const [moreError, setMoreError] = useState<Error>();
  const params = (f: Filters, cursor?: string) => {
    // datetime-local has no zone; the labels say UTC, so it is read as UTC.
    const iso = (v: string) => (v === '' ? undefined : new Date(`${v}Z`).toISOString());
    return query({ ...f, from: iso(f.from), to: iso(f.to), limit: 100, cursor });
  };
  const first = useLoad(() => api<Page>('GET', `/admin/requests${params(filters)}`), [filters]);
  const rows = [...(first.data?.requests ?? []), ...(more?.rows ?? [])];
  const cursor = more ? more.cursor : (first.data?.next_cursor ?? null);

  const loadMore = async () => {
    if (cursor === null) return;
    try {
      const page = await api<Page>('GET', `/admin/requests${params(filters, cursor)}`);
      setMore({ rows: [...(more?.rows ?? []), ...page.requests], cursor: page.next_cursor });
    } catch (err) {
      setMoreError(err instanceof Error ? err : new Error(String(err)));
    }
  };
  const exportCsv = () =>
    download(
      'requests.csv',
      csvDocument(
        COLUMNS,
        rows.map((r) => COLUMNS.map((c) => (c === 'flags' ? flagsOf(r).join(' ') : r[c]))),
      ),
    );
  const field = (name: keyof Filters, label: string, type = 'text') => (
    <label>
      {label}
      <input type={type} name={name} value={form[name]} onInput={(e) => setForm({ ...form, [name]: e.currentTarget.value })} />
    </label>
  );

  return (
    <div>
      <form
        class="filters"
        aria-label="Filter requests"
        onSubmit={(e) => {
          e.preventDefault();
          setMore(null);
          setFilters(form);
        }}
      >
        {field('key_id', 'Key id')}
        {field('team', 'Team')}
        <label>
          State
          <select name="state" value={form.state} onChange={(e) => setForm({ ...form, state: e.currentTarget.value })}>
            <option value="">any</option>
            <option value="reserved">reserved (in flight)</option>
            <option value="settled">settled</option>
            <option value="released">released</option>
          </select>
        </label>
        <label>
          Flag
          <select name="flag" value={form.flag} onChange={(e) => setForm({ ...form, flag: e.currentTarget.value })}>
            <option value="">any</option>
            <option value="unverified">unverified</option>
            <option value="recovered">recovered</option>
            <option value="overrun">overrun</option>
            <option value="open">open</option>
          </select>
        </label>
        {field('from', 'From (UTC)', 'datetime-local')}
        {field('to', 'To (UTC)', 'datetime-local')}
        <button type="submit" class="primary">
          Apply
        </button>
        <button type="button" onClick={exportCsv} disabled={rows.length === 0}>
          Export CSV ({rows.length})
        </button>
      </form>
      <Loading loaded={first} />
      <ErrorNote error={first.error ?? moreError} />
      <TableBox label="Requests">
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Key</th>
            <th scope="col">Operation</th>
            <th scope="col">Status</th>
            <th scope="col" class="num">
              Megapixels
            </th>
            <th scope="col" class="num">
              Cost
            </th>
            <th scope="col">Flags</th>
            <th scope="col">fal request id</th>
            <th scope="col">Images</th>
          </tr>
        </thead>
        <tbody data-testid="requests">
          {rows.length === 0 && !first.loading ? (
            <tr>
              <td colSpan={9}>No requests match.</td>
            </tr>
          ) : null}
          {rows.map((r, i) => (
            <tr key={r.id} data-request-id={r.id}>
              <td>{formatTime(r.created_at)}</td>
              <td>
                {r.key_name ?? r.key_id}
                {r.team ? <div class="muted small">{r.team}</div> : null}
              </td>
              <td>{r.operation}</td>
              <td>
                {r.http_status ?? '—'} <span class="muted small">{[r.state, r.outcome].filter(Boolean).join(' · ')}</span>
              </td>
              <td class="num">{formatMp(r.megapixels)}</td>
              <td class="num">{cost(r)}</td>
              <td>
                {flagsOf(r).map((f) => (
                  <span key={f} class={`flag ${f}`}>
                    {f}
                  </span>
                ))}
              </td>
              <td>
                <code>{r.fal_request_id ?? '—'}</code>
              </td>
              <td>{r.operation === 'submit' && r.state === 'settled' && r.fal_request_id !== null ? <Thumbnails ledgerId={r.id} auto={i < AUTO_THUMBNAIL_ROWS} /> : <span class="muted small">—</span>}</td>
            </tr>
          ))}
        </tbody>
      </TableBox>
      {cursor !== null ? (
        <button type="button" onClick={() => void loadMore()}>
          Load more
        </button>
      ) : null}
    </div>
  );
}

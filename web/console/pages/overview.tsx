/**
 * Overview: spend today, this month and in total, with megapixels, requests, images and the rates
 * of 402, 429 and 5xx answers; spend over time; the top spenders; reservations in flight. Every
 * figure is one GET /admin/usage answer, formatted and nothing else (the browser test compares them).
 */
import { useState } from 'preact/hooks';
import { formatUsd, formatMicro, toMicro } from '../../shared/money.js';
import { api, query } from '../api.js';
import type { PageProps } from '../app.js';
import { formatCount, formatMp, formatRate, periodStarts } from '../format.js';
import { bucketStarts, chartData, ChartTable, SpendChart, type Bucket, type ChartData, type StackBy } from '../spend-chart.js';
import type { RequestPage, StatusCounts, UsageReport } from '../types.js';
import { ErrorNote, Loading, TableBox, useLoad } from '../ui.js';

const usage = (params: Record<string, string | undefined>) => api<UsageReport>('GET', `/admin/usage${query(params)}`);

/** Every row that got an answer: the denominator of the error and refusal rates. */
export function answered(c: StatusCounts): number {
  return c.http_2xx + c.http_402 + c.http_429 + c.http_4xx + c.http_5xx;
}

function Totals(props: { id: string; title: string; report: UsageReport }) {
  const r = props.report;
  const all = answered(r);
  const figure = (name: string, label: string, value: string, count?: number) => (
    <div class="figure">
      <dt>{label}</dt>
      <dd data-testid={`${props.id}-${name}`}>{value}</dd>
      {count === undefined ? null : (
        <small class="muted" data-testid={`${props.id}-${name}-count`}>
          {formatCount(count)} of {formatCount(all)}
        </small>
      )}
    </div>
  );
  return (
    <section class="card" aria-labelledby={`${props.id}-title`}>
      <h2 id={`${props.id}-title`}>{props.title}</h2>
      <dl class="figures">
        {figure('spend', 'Spend', formatUsd(r.total_usd))}
        {figure('megapixels', 'Megapixels', formatMp(r.megapixels))}
        {figure('requests', 'Requests', formatCount(r.requests))}
        {figure('images', 'Images', formatCount(r.images))}
        {figure('rate-402', '402 budget refusals', formatRate(r.http_402, all), r.http_402)}
        {figure('rate-429', '429 rate limited', formatRate(r.http_429, all), r.http_429)}
        {figure('rate-5xx', '5xx errors', formatRate(r.http_5xx, all), r.http_5xx)}
      </dl>
    </section>
  );
}

async function loadChart(bucket: Bucket, stackBy: StackBy, now: Date): Promise<ChartData> {
  const from = bucket === 'day' ? new Date(Date.parse(periodStarts(now).day) - 29 * 86_400_000) : new Date(Math.floor(now.getTime() / 3_600_000) * 3_600_000 - 47 * 3_600_000);
  const buckets = bucketStarts(bucket, from, now);
  const r = await usage({ group_by: `${bucket},${stackBy}`, from: from.toISOString() });
  return chartData(r.rows, bucket, stackBy, buckets);
}

function Chart(props: { tick: number }) {
  const [bucket, setBucket] = useState<Bucket>('day');
  const [stackBy, setStackBy] = useState<StackBy>('key');
  const chart = useLoad(() => loadChart(bucket, stackBy, new Date()), [bucket, stackBy, props.tick]);
  return (
    <section class="card wide" aria-labelledby="chart-title">
      <div class="card-head">
        <h2 id="chart-title">Spend over time</h2>
        <label>
          Per{' '}
          <select value={bucket} onChange={(e) => setBucket(e.currentTarget.value as Bucket)}>
            <option value="day">day (30 days)</option>
            <option value="hour">hour (48 hours)</option>
          </select>
        </label>
        <label>
          Stacked by{' '}
          <select value={stackBy} onChange={(e) => setStackBy(e.currentTarget.value as StackBy)}>
            <option value="key">key</option>
            <option value="team">team</option>
          </select>
        </label>
      </div>
      <ErrorNote error={chart.error} />
      {chart.data ? (
        <>
          <SpendChart data={chart.data} bucket={bucket} />
          <ChartTable data={chart.data} bucket={bucket} />
        </>
      ) : (
        <Loading loaded={chart} />
      )}
    </section>
  );
}

function TopSpenders(props: { report: UsageReport }) {
  const rows = [...props.report.rows].sort((a, b) => toMicro(b.spent_usd) - toMicro(a.spent_usd)).slice(0, 5);
  return (
    <section class="card" aria-labelledby="top-title">
      <h2 id="top-title">Top spenders this month</h2>
      {rows.length === 0 ? (
        <p class="muted">No spend this month.</p>
      ) : (
        <TableBox label="Top spenders">
          <thead>
            <tr>
              <th scope="col">Key</th>
              <th scope="col">Team</th>
              <th scope="col" class="num">
                Spend
              </th>
              <th scope="col" class="num">
                Requests
              </th>
            </tr>
          </thead>
          <tbody data-testid="top-spenders">
            {rows.map((r) => (
              <tr key={r.group} data-key={r.key_id ?? r.group}>
                <th scope="row">{r.key_name ?? r.key_id ?? r.group}</th>
                <td>{r.team ?? '—'}</td>
                <td class="num">{formatUsd(r.spent_usd)}</td>
                <td class="num">{formatCount(r.requests)}</td>
              </tr>
            ))}
          </tbody>
        </TableBox>
      )}
    </section>
  );
}

function InFlight(props: { report: UsageReport; open: RequestPage }) {
  const count = `${props.open.requests.length}${props.open.next_cursor ? '+' : ''}`;
  return (
    <section class="card" aria-labelledby="flight-title">
      <h2 id="flight-title">Reservations in flight</h2>
      <dl class="figures">
        <div class="figure">
          <dt>Reserved</dt>
          <dd data-testid="reserved">{formatMicro(toMicro(props.report.reserved_usd))}</dd>
        </div>
        <div class="figure">
          <dt>Requests in flight</dt>
          <dd data-testid="in-flight">{count}</dd>
        </div>
      </dl>
    </section>
  );
}

export function OverviewPage(_props: PageProps) {
  const [tick, setTick] = useState(0);
  const reports = useLoad(async () => {
    const starts = periodStarts(new Date());
    const [total, today, month, spenders, open] = await Promise.all([
      usage({}),
      usage({ from: starts.day }),
      usage({ from: starts.month }),
      usage({ from: starts.month, group_by: 'key' }),
      api<RequestPage>('GET', `/admin/requests${query({ state: 'reserved', limit: 100 })}`),
    ]);
    return { total, today, month, spenders, open };
  }, []);
  const r = reports.data;
  return (
    <div class="overview">
      <div class="toolbar">
        <button
          type="button"
          onClick={() => {
            reports.reload();
            setTick((t) => t + 1);
          }}
        >
          Refresh
        </button>
        <Loading loaded={reports} />
      </div>
      <ErrorNote error={reports.error} />
      {r ? (
        <>
          <div class="cards">
            <Totals id="today" title="Today (UTC)" report={r.today} />
            <Totals id="month" title="This month (UTC)" report={r.month} />
            <Totals id="total" title="All time" report={r.total} />
          </div>
          <Chart tick={tick} />
          <div class="cards">
            <TopSpenders report={r.spenders} />
            <InFlight report={r.total} open={r.open} />
          </div>
        </>
      ) : null}
    </div>
  );
}

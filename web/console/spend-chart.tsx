/**
 * Spend over time as stacked bars (uPlot), one per day or hour: bars, not areas, because spend is
 * a sum per bucket, not a reading between them. Amounts are summed in integer micro-USD; only the
 * plotted heights are divided into dollars. Each series is drawn as its running total, largest
 * first, so the part of series i shows between the totals of series i−1 and i; the legend and the
 * table under the chart show each series' own amount, not the running total (the legend: the
 * hovered bucket's, or the whole range's when nothing is hovered).
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { formatMicro, sumMicro, toMicro, type Micro } from '../shared/money.js';
import type { UsageReportRow as UsageRow } from './types.js';

export type Bucket = 'day' | 'hour';
export type StackBy = 'key' | 'team';

export interface ChartSeries {
  label: string;
  /** Micro-USD per bucket, aligned with `ChartData.buckets`. */
  values: Micro[];
}
export interface ChartData {
  /** Bucket starts, ISO text. */
  buckets: string[];
  series: ChartSeries[];
}

const MAX_SERIES = 8;
const bars = uPlot.paths.bars?.({ size: [0.8, 48], align: 0 });
const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#ca8a04', '#db2777', '#64748b'];

/** Every bucket start from `from` up to `now` (UTC days or hours). */
export function bucketStarts(bucket: Bucket, from: Date, now: Date): string[] {
  const step = bucket === 'day' ? 86_400_000 : 3_600_000;
  const out: string[] = [];
  for (let t = from.getTime(); t <= now.getTime(); t += step) out.push(new Date(t).toISOString());
  return out;
}

function rowBucket(r: UsageRow, bucket: Bucket): string | undefined {
  if (bucket === 'hour') return r.hour === undefined ? undefined : new Date(r.hour).toISOString();
  return r.day === undefined ? undefined : `${r.day}T00:00:00.000Z`;
}

function rowLabel(r: UsageRow, stackBy: StackBy): string {
  if (stackBy === 'team') return r.team ?? '(no team)';
  if (r.key_id === undefined) return 'all';
  return r.key_name ? `${r.key_name} (${r.key_id})` : r.key_id;
}

/** Rows of a `day,key`-style grid → aligned series: the biggest spenders, the rest as "other". */
export function chartData(rows: UsageRow[], bucket: Bucket, stackBy: StackBy, buckets: string[]): ChartData {
  const index = new Map(buckets.map((b, i) => [b, i]));
  const byLabel = new Map<string, Micro[]>();
  for (const r of rows) {
    const b = rowBucket(r, bucket);
    const i = b === undefined ? undefined : index.get(b);
    if (i === undefined) continue;
    const label = rowLabel(r, stackBy);
    const values = byLabel.get(label) ?? buckets.map(() => 0);
    values[i] = (values[i] ?? 0) + toMicro(r.spent_usd);
    byLabel.set(label, values);
  }
  const total = (v: Micro[]) => v.reduce((s, x) => s + x, 0);
  const ranked = [...byLabel.entries()].sort((a, b) => total(b[1]) - total(a[1]) || (a[0] < b[0] ? -1 : 1));
  const series = ranked.slice(0, MAX_SERIES).map(([label, values]) => ({ label, values }));
  const rest = ranked.slice(MAX_SERIES);
  if (rest.length > 0) series.push({ label: `other (${rest.length})`, values: buckets.map((_, i) => rest.reduce((s, [, v]) => s + (v[i] ?? 0), 0)) });
  return { buckets, series };
}

function plotData(data: ChartData): uPlot.AlignedData {
  const xs = data.buckets.map((b) => Date.parse(b) / 1000);
  const running = data.buckets.map(() => 0);
  const stacked = data.series.map((s) => s.values.map((v, i) => (running[i] = (running[i] ?? 0) + v)));
  // Largest running total first: drawn first, so the smaller ones paint over it.
  return [xs, ...stacked.reverse().map((ys) => ys.map((y) => y / 1e6))];
}

export function SpendChart(props: { data: ChartData; bucket: Bucket }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (el === null) return;
    const n = props.data.series.length;
    const step = props.bucket === 'day' ? 86_400 : 3_600;
    // Series drawn in reverse order of the legend; each one's own amounts for the legend.
    const own = [...props.data.series].reverse();
    const opts: uPlot.Options = {
      width: Math.max(280, el.clientWidth),
      height: 260,
      // Half a bucket of room at each end so the first and last bars are whole.
      scales: { x: { time: true, range: (_u, min, max) => [min - step / 2, max + step / 2] } },
      // The ledger's days and hours are UTC: so are the axis labels, whatever the browser's zone.
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
      axes: [{}, { values: (_u, splits) => splits.map((v) => formatMicro(Math.round(v * 1e6))), size: 70 }],
      series: [
        { label: props.bucket === 'day' ? 'Day (UTC)' : 'Hour (UTC)' },
        ...own.map((s, i) => {
          const color = COLORS[(n - 1 - i) % COLORS.length] ?? '#64748b';
          return { label: s.label, stroke: color, fill: color, width: 0, paths: bars, points: { show: false }, value: (_u: uPlot, _v: number | null, _si: number, idx: number | null) => formatMicro(idx === null ? sumMicro(s.values) : (s.values[idx] ?? 0)) };
        }),
      ],
      legend: { live: true },
    };
    const plot = new uPlot(opts, plotData(props.data), el);
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(280, el.clientWidth), height: 260 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [props.data, props.bucket]);
  return <div ref={box} class="chart" data-testid="spend-chart" role="img" aria-label="Spend over time, stacked; the table below has the same figures" />;
}

/** The chart's figures as a table (what a screen reader reads, and what the tests check). */
export function ChartTable(props: { data: ChartData; bucket: Bucket }) {
  const label = (b: string) => (props.bucket === 'day' ? b.slice(0, 10) : `${b.slice(0, 13).replace('T', ' ')}:00`);
  const shown = props.data.buckets.map((b, i) => ({ b, i })).filter(({ i }) => props.data.series.some((s) => (s.values[i] ?? 0) !== 0));
  return (
    <details>
      <summary>Chart figures</summary>
      <div class="table-box" tabIndex={0} role="region" aria-label="Chart figures">
        <table data-testid="chart-table">
          <thead>
            <tr>
              <th scope="col">{props.bucket === 'day' ? 'Day (UTC)' : 'Hour (UTC)'}</th>
              {props.data.series.map((s) => (
                <th scope="col" key={s.label}>
                  {s.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {shown.length === 0 ? (
              <tr>
                <td colSpan={props.data.series.length + 1}>No spend in this range.</td>
              </tr>
            ) : (
              shown.map(({ b, i }) => (
                <tr key={b} data-bucket={b}>
                  <th scope="row">{label(b)}</th>
                  {props.data.series.map((s) => (
                    <td key={s.label} class="num" data-micro={s.values[i] ?? 0}>
                      {formatMicro(s.values[i] ?? 0)}
                    </td>
                  ))}
                </tr>
              ))
            )}
          </tbody>
        </table>
      </div>
    </details>
  );
}

/** Renders one run's results as Markdown tables (printed, and pasted into BENCHMARKS.md). */
import { PG_PAIR } from '../scenarios/scale-out.js';
import type { ThroughputRow } from '../scenarios/throughput.js';
import type { Results } from './results.js';

const n = (v: number | undefined, digits = 0): string => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits));
const x = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '–' : `×${v.toFixed(2)}`);

function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

export function renderReport(r: Results): string {
  const m = r.meta.machine;
  const label = (id: string) => r.variants.find((v) => v.id === id)?.label ?? id;
  const out: string[] = [];
  out.push(
    `**${r.meta.mode} run** ${r.meta.startedAt}, ${n(r.meta.seconds)} s · ${m.cpuModel}, ${m.cores} cores, ${m.memGb} GB · Node ${m.node} · ` +
      `fastify ${m.packages.fastify}, reply-from ${m.packages['@fastify/reply-from']}, server-proxy ${m.packages['@fal-ai/server-proxy']}, ` +
      `undici ${m.packages.undici}, autocannon ${m.packages.autocannon} · git ${m.git.commit}${m.git.dirty ? ' (src/ modified)' : ''}` +
      `${r.meta.pinned ? ' · pinned' : ' · unpinned'}`,
  );
  const noise = r.meta.noise;
  if (noise !== undefined) {
    out.push(
      `Machine during the run: load average ${n(noise.loadavg1Start, 1)} → ${n(noise.loadavg1End, 1)}; CPU busy ${n(noise.machineBusyShare * 100)} % of 2 cores, ` +
        `of which ${n(noise.foreignBusyShare * 100)} % by processes outside this benchmark.`,
    );
  }

  const status = r.variants.filter((v) => r.s1?.some((s) => s.id === v.id) || r.s3?.some((s) => s.id === v.id));
  if (status.length > 0) {
    out.push('### Status path (S1 c=1 added latency vs direct; S3 c=50 max throughput; S4 at 50 % of own max)');
    out.push(
      table(
        ['variant', 'S1 +p50 µs', 'S1 +p99 µs', 'S3 req/s', '×direct', '×node:http', '×reply-from', '×server-proxy', 'CPU µs/req', 'RSS MB (peak)', 'ELD p99 ms', 'S4 rate', 'S4 p99 ms', 'S4 p99 ms (autocannon)', 'idle RSS MB'],
        status.map((v) => {
          const s1 = r.s1?.find((s) => s.id === v.id);
          const s3 = r.s3?.find((s) => s.id === v.id);
          const s4 = r.s4?.find((s) => s.id === v.id);
          const q = r.ratios.s3?.[v.id];
          const idle = r.idle[v.id];
          return [
            label(v.id),
            n(s1?.addedP50Us),
            n(s1?.addedP99Us),
            n(s3?.rps),
            x(q?.vsDirect),
            x(q?.vsNodeHttp),
            x(q?.vsReplyFrom),
            x(q?.vsServerProxy),
            n(s3?.cpuUsPerReq),
            s3 === undefined ? '–' : `${n(s3.rssMb)} (${n(s3.peakRssMb)})`,
            n(s3?.eldP99Ms, 1),
            n(s4?.rate),
            n(s4?.p99Ms, 1),
            n(s4?.cannonP99Ms),
            n(idle?.rssMb),
          ];
        }),
      ),
    );
    out.push(`"+ rate limits": ${r.meta.rateLimits}. Direct row: absolute p50/p99 ${n(r.s1?.find((s) => s.id === 'direct')?.p50Us)}/${n(r.s1?.find((s) => s.id === 'direct')?.p99Us)} µs.`);
  }

  if (r.s2 !== undefined || r.s5 !== undefined) {
    out.push('### Submit path (S2 c=1 added latency vs direct; S5 c=50 closed-loop throughput)');
    const ids = r.variants.filter((v) => r.s2?.some((s) => s.id === v.id) || r.s5?.some((s) => s.id === v.id));
    out.push(
      table(
        ['variant', 'S2 +p50 µs', 'S2 +p99 µs', 'S5 req/s', '×direct', '×reply-from', 'S5 CPU µs/req', 'errors'],
        ids.map((v) => {
          const s2 = r.s2?.find((s) => s.id === v.id);
          const s5 = r.s5?.find((s) => s.id === v.id);
          const q = r.ratios.s5?.[v.id];
          return [label(v.id), n(s2?.addedP50Us), n(s2?.addedP99Us), n(s5?.rps), x(q?.vsDirect), x(q?.vsReplyFrom), n(s5?.cpuUsPerReq), n((s2?.errors ?? 0) + (s5?.errors ?? 0) + (s5?.non2xx ?? 0))];
        }),
      ),
    );
  }

  if (r.s5r !== undefined) {
    out.push('### Sync path (S5r: small-body sync run on fal.run, c=32 closed loop, sim latency 0; the sim renders each answer, then replays one)');
    const rows = (body: string, list: ThroughputRow[] | undefined, ratios: typeof r.ratios.s5r) =>
      (list ?? []).map((s) => [body, label(s.id), n(s.rps), x(ratios?.[s.id]?.vsDirect), x(ratios?.[s.id]?.vsNodeHttp), n(s.p99Ms, 1), n(s.cpuUsPerReq), n(s.eldP99Ms, 1), n(s.errors + s.non2xx)]);
    out.push(
      table(
        ['sim', 'variant', 'req/s', '×direct', '×node:http', 'p99 ms', 'CPU µs/req', 'ELD p99 ms', 'errors'],
        [...rows('renders', r.s5r, r.ratios.s5r), ...rows('replays', r.s5rReplayed, r.ratios.s5rReplayed)],
      ),
    );
  }

  if (r.s10 !== undefined) {
    out.push('### Submit on Postgres, scaled out (S10: c=50 split evenly over the instances; one database, one key)');
    out.push(
      table(
        ['target', 'req/s (sum)', 'rounds', '×one Postgres instance', '×SQLite gw-prod', 'p99 ms (worst instance)', 'CPU µs/req (gateways)', 'errors'],
        r.s10.map((s) => [
          s.id === PG_PAIR ? 'two Postgres instances (gw-pg + gw-pg2), together' : label(s.id),
          n(s.rps),
          s.rounds.map((v) => n(v)).join(', '),
          x(r.ratios.s10?.[s.id]?.vsOnePg),
          x(r.ratios.s10?.[s.id]?.vsSqlite),
          n(s.p99Ms, 1),
          n(s.cpuUsPerReq),
          n(s.errors + s.non2xx),
        ]),
      ),
    );
  }

  if (r.s6 !== undefined) {
    out.push('### Realistic mix (S6: submit → N pollers every 500 ms → result); fal-side calls from /_sim/stats');
    out.push(
      table(
        ['variant', 'jobs', 'client polls', 'upstream status', 'upstream / client poll', 'upstream status / job·s', 'client polls / job·s', 'upstream results / job', 'errors'],
        r.s6.map((s) => [label(s.id), n(s.jobs), n(s.clientPolls), n(s.upstreamStatus), n(s.upstreamPerClientPoll, 3), n(s.upstreamStatusPerJobSecond, 2), n(s.clientPollsPerJobSecond, 2), n(s.jobs > 0 ? s.upstreamResult / s.jobs : NaN, 2), n(s.errors)]),
      ),
    );
  }

  if (r.s7 !== undefined) {
    out.push('### Large sync_mode bodies (S7: c=10 fast readers; then + slow readers at 256 KB/s)');
    out.push(
      table(
        ['body', 'variant', 'req/s', '×direct', '×node:http', 'MB/s', 'CPU ms/req', 'peak RSS MB', 'slow phase: peak RSS MB', 'RSS before → after MB', 'fast req/s with slow', 'errors'],
        r.s7.map((s) => [
          `${s.size} (${n(s.bodyBytes / 1e6, 2)} MB)`,
          label(s.id),
          n(s.rps, 1),
          x(r.ratios.s7?.[s.size]?.[s.id]?.vsDirect),
          x(r.ratios.s7?.[s.size]?.[s.id]?.vsNodeHttp),
          n(s.mbPerSec),
          n(s.cpuMsPerReq, 2),
          n(s.peakRssMb),
          n(s.slow?.peakRssMb),
          s.slow === undefined ? '–' : `${n(s.slow.rssBeforeMb)} → ${n(s.slow.rssAfterMb)}`,
          n(s.slow?.fastRps, 1),
          n(s.errors),
        ]),
      ),
    );
  }

  if (r.s9 !== undefined) {
    const s = r.s9;
    out.push('### Soak (S9)');
    out.push(
      `${label(s.id)}: ${n(s.seconds)} s, paced status at ${n(s.statusRate)} req/s (p99 ${n(s.statusP99Ms, 1)} ms) + mix (${s.mixJobs} jobs); ` +
        `RSS ${n(s.rssStartMb)} → ${n(s.rssEndMb)} MB, slope after warm-up ${n(s.rssSlopeMbPerMin, 2)} MB/min; fds ${s.fdsStart} → ${s.fdsEnd} ` +
        `(after warm-up; slope ${n(s.fdSlopePerMin, 2)}/min); errors ${s.errors}`,
    );
  }

  out.push('### Targets (issues 6 and 12)');
  out.push(table(['target', 'variant', 'measured', 'met'], r.verdicts.map((v) => [v.target, v.variant, v.measured + (v.note ? ` (${v.note})` : ''), v.met === null ? 'n/a' : v.met ? 'yes' : '**no**'])));
  if (r.meta.notes.length > 0) out.push(r.meta.notes.map((s) => `- ${s}`).join('\n'));
  return out.join('\n\n');
}

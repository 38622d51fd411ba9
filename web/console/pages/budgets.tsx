/**
 * Budgets: every key and team with a budget, one gauge per budgeted period (spent, reserved,
 * remaining), with the time it runs out at the last 24 hours' rate; the most urgent first.
 */
import { formatMicro, toMicro } from '../../shared/money.js';
import { api, query } from '../api.js';
import type { PageProps } from '../app.js';
import { byUrgency, gauges, RATE_WINDOW_MS, type Gauge, type Scope } from '../budget-math.js';
import { formatDuration } from '../format.js';
import type { KeyReport, TeamReport, UsageReport } from '../types.js';
import { ErrorNote, Loading, useLoad } from '../ui.js';

const PERIOD_LABEL = { lifetime: 'Lifetime', day: 'Today (UTC)', month: 'This month (UTC)' } as const;

/** Spend per key or team over the last 24 hours: the rate budgets are projected at. */
async function rates(by: 'key' | 'team', now: Date): Promise<Map<string, number>> {
  const r = await api<UsageReport>('GET', `/admin/usage${query({ group_by: by, from: new Date(now.getTime() - RATE_WINDOW_MS).toISOString() })}`);
  return new Map(r.rows.map((row) => [(by === 'key' ? row.key_id : row.team) ?? row.group, toMicro(row.spent_usd)]));
}

function pct(part: number, whole: number): string {
  return whole <= 0 ? '100%' : `${Math.min(100, (part * 100) / whole).toFixed(2)}%`;
}

function GaugeView(props: { g: Gauge; scope: string }) {
  const g = props.g;
  const name = `${props.scope} ${g.period}`;
  const outlook = g.exhaustsInMs === 0 ? 'Exhausted' : g.resetsFirst ? 'Resets before it runs out' : Number.isFinite(g.exhaustsInMs) ? `Runs out in ${formatDuration(g.exhaustsInMs)}` : 'No spend in the last 24 h';
  return (
    <div class="gauge" data-testid={`gauge-${name}`} data-spent-micro={g.spent} data-reserved-micro={g.reserved} data-remaining-micro={g.remaining}>
      <div class="gauge-head">
        <strong>{PERIOD_LABEL[g.period]}</strong>
        <span class={g.exhaustsInMs === 0 ? 'bad' : ''}>{outlook}</span>
      </div>
      <div class="gauge-bar" role="meter" aria-label={`${name} budget used`} aria-valuemin={0} aria-valuemax={g.budget} aria-valuenow={Math.min(g.budget, g.spent + g.reserved)} aria-valuetext={`${formatMicro(g.spent + g.reserved)} of ${formatMicro(g.budget)}`}>
        <span class="spent" style={{ width: pct(g.spent, g.budget) }} />
        <span class="reserved" style={{ width: pct(g.reserved, g.budget) }} />
      </div>
      <div class="gauge-legend">
        <span>
          <i class="swatch spent" /> Spent <span data-testid="spent">{formatMicro(g.spent)}</span>
        </span>
        <span>
          <i class="swatch reserved" /> Reserved {formatMicro(g.reserved)}
        </span>
        <span>
          Remaining <span data-testid="remaining">{formatMicro(g.remaining)}</span> of {formatMicro(g.budget)}
        </span>
      </div>
    </div>
  );
}

export function BudgetsPage(_props: PageProps) {
  const loaded = useLoad(async () => {
    const now = new Date();
    const [keys, teams, keyRates, teamRates] = await Promise.all([
      api<{ keys: KeyReport[] }>('GET', '/admin/keys'),
      api<{ teams: TeamReport[] }>('GET', '/admin/teams'),
      rates('key', now),
      rates('team', now),
    ]);
    const scopes: Scope[] = [];
    for (const k of keys.keys) {
      if (k.status !== 'active' || (k.budget_usd === null && k.budget_daily_usd === null && k.budget_monthly_usd === null)) continue;
      const rate = keyRates.get(k.id) ?? 0;
      scopes.push({ kind: 'key', id: k.id, label: k.name, detail: `key ${k.id}${k.team ? ` · team ${k.team}` : ''}`, gauges: gauges(k.usage, rate, now), rate });
    }
    for (const t of teams.teams) {
      if (t.budget_usd === null && t.budget_daily_usd === null && t.budget_monthly_usd === null) continue;
      const rate = teamRates.get(t.name) ?? 0;
      scopes.push({ kind: 'team', id: t.name, label: t.name, detail: `team · ${t.keys} ${t.keys === 1 ? 'key' : 'keys'}`, gauges: gauges(t.usage, rate, now), rate });
    }
    return { scopes: scopes.sort(byUrgency) };
  }, []);
  const d = loaded.data;
  return (
    <div>
      <div class="toolbar">
        <button type="button" onClick={loaded.reload}>
          Refresh
        </button>
        <Loading loaded={loaded} />
      </div>
      <ErrorNote error={loaded.error} />
      {d && d.scopes.length === 0 ? <p>No active key or team has a budget.</p> : null}
      <div class="budget-list">
        {d?.scopes.map((s) => (
          <section class="card budget" key={`${s.kind}:${s.id}`} data-testid={`budget-${s.kind}-${s.id}`} aria-labelledby={`b-${s.kind}-${s.id}`}>
            <h2 id={`b-${s.kind}-${s.id}`}>
              {s.label} <span class="muted small">{s.detail}</span>
            </h2>
            <p class="muted small">Last 24 h: {formatMicro(s.rate)}</p>
            {s.gauges.map((g) => (
              <GaugeView key={g.period} g={g} scope={`${s.kind} ${s.label}`} />
            ))}
          </section>
        ))}
      </div>
    </div>
  );
}

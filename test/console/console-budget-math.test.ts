/** Budget gauges and urgency (web/console/budget-math.ts), in integer micro-USD, and the pages' CSP. */
import { describe, expect, it } from 'vitest';
import { contentSecurityPolicy, loopbackImageOrigins } from '../../src/http/routes/web.js';
import { byUrgency, gauge, periodEnd, type Scope } from '../../web/console/budget-math.js';

const NOW = new Date('2026-12-02T06:00:00.000Z');
const view = (spent: number, reserved: number, budget: number | null) => ({ spent_usd: spent, reserved_usd: reserved, budget_usd: budget, remaining_usd: budget === null ? null : Math.max(0, budget - spent - reserved) });

describe('budget gauges', () => {
  it('has no gauge for a period without a budget', () => {
    expect(gauge('day', view(1, 0, null), 0, NOW)).toBeNull();
  });

  it('projects the run-out time from the last 24 hours of spend', () => {
    // $2 left at $4 a day: 12 hours; a lifetime budget never resets.
    const g = gauge('lifetime', view(7.5, 0.5, 10), 4_000_000, NOW);
    expect(g).toMatchObject({ budget: 10_000_000, spent: 7_500_000, reserved: 500_000, remaining: 2_000_000, resetsFirst: false });
    expect(g?.exhaustsInMs).toBe(12 * 3_600_000);
  });

  it('calls a day budget safe when it would run out only after midnight UTC', () => {
    // 18 h left in the day; $2 left at $2 a day lasts 24 h.
    const g = gauge('day', view(3, 0, 5), 2_000_000, NOW);
    expect(g?.resetsFirst).toBe(true);
    expect(g?.exhaustsInMs).toBe(Number.POSITIVE_INFINITY);
    expect(periodEnd('day', NOW)).toBe(Date.parse('2026-12-03T00:00:00.000Z'));
    expect(periodEnd('month', NOW)).toBe(Date.parse('2027-01-01T00:00:00.000Z'));
  });

  it('counts reservations against what is left, and an exhausted budget as now', () => {
    expect(gauge('month', view(0.7, 0.3, 1), 0, NOW)).toMatchObject({ remaining: 0, exhaustsInMs: 0, resetsFirst: false });
    expect(gauge('month', view(0, 0, 1), 0, NOW)?.exhaustsInMs).toBe(Number.POSITIVE_INFINITY);
  });

  it('sorts the soonest exhaustion first, then the largest share used', () => {
    const scope = (id: string, g: ReturnType<typeof gauge>[]): Scope => ({ kind: 'key', id, label: id, detail: '', gauges: g.filter((x) => x !== null), rate: 0 });
    const exhausted = scope('exhausted', [gauge('lifetime', view(1, 0, 1), 0, NOW)]);
    const soon = scope('soon', [gauge('lifetime', view(1, 0, 2), 1_000_000, NOW)]);
    const idleFull = scope('idle-90%', [gauge('lifetime', view(0.9, 0, 1), 0, NOW)]);
    const idleEmpty = scope('idle-10%', [gauge('lifetime', view(0.1, 0, 1), 0, NOW)]);
    expect([idleEmpty, soon, idleFull, exhausted].sort(byUrgency).map((s) => s.id)).toEqual(['exhausted', 'soon', 'idle-90%', 'idle-10%']);
  });
});

describe('the pages\' Content-Security-Policy', () => {
  it('allows images from https: and a loopback simulated fal only', () => {
    expect(loopbackImageOrigins(['http://127.0.0.1:4010', 'https://fal.run', 'http://localhost:9/x', 'http://10.0.0.5:80', 'not a url'])).toEqual(['http://127.0.0.1:4010', 'http://localhost:9']);
    const csp = contentSecurityPolicy(['http://127.0.0.1:4010']);
    expect(csp).toContain("img-src 'self' https: http://127.0.0.1:4010");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(contentSecurityPolicy([])).toContain("img-src 'self' https:;");
  });
});

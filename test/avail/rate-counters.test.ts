/** The per-instance counters (no Redis, or Redis down): fixed windows, and a bounded number of them. */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { RateCounters } from '../../src/pipeline/rate-counters.js';

const incr = (c: RateCounters, key: string) =>
  new Promise<{ current: number; ttl: number }>((resolve, reject) => c.incr(key, (err, res) => (err || !res ? reject(err ?? new Error('no result')) : resolve(res)), 60_000));
const read = (c: RateCounters, key: string) =>
  new Promise<{ current: number; ttl: number }>((resolve, reject) => c.read(key, (err, res) => (err || !res ? reject(err ?? new Error('no result')) : resolve(res)), 60_000));

describe('per-instance rate counters', () => {
  it('counts in fixed windows and reopens the window at its edge', async () => {
    let now = 1_000_000;
    const c = new RateCounters(undefined, pino({ level: 'silent' }), 100, () => now);
    expect(await incr(c, 'k')).toEqual({ current: 1, ttl: 60_000 });
    now += 45_000;
    expect(await incr(c, 'k')).toEqual({ current: 2, ttl: 15_000 });
    expect(await read(c, 'k')).toEqual({ current: 2, ttl: 15_000 });
    now += 15_000;
    expect(await read(c, 'k')).toEqual({ current: 0, ttl: 0 });
    expect(await incr(c, 'k')).toEqual({ current: 1, ttl: 60_000 });
    expect(c.state()).toBe('not_configured');
  });

  it('keeps at most its configured number of windows, dropping the oldest', async () => {
    const c = new RateCounters(undefined, pino({ level: 'silent' }), 3);
    for (const k of ['a', 'b', 'c', 'd']) await incr(c, k);
    expect((await read(c, 'a')).current).toBe(0);
    expect((await read(c, 'd')).current).toBe(1);
  });
});

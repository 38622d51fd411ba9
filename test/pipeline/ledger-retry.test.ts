/**
 * The in-memory retry of ledger writes (pipeline/ledger-retry.ts) holds only writes the database
 * could not take because it was unavailable; a write it refused is left to the reconciler, never
 * retried forever while the row's budget and in-flight slot stay held.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { LedgerRetry } from '../../src/pipeline/ledger-retry.js';

const log = pino({ level: 'silent' });

describe('LedgerRetry', () => {
  it('holds a write that failed because the database was unreachable, and lands it later', async () => {
    const retry = new LedgerRetry(log, 10);
    let down = true;
    let written = 0;
    const write = () => (down ? Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })) : Promise.resolve(++written));
    expect(await retry.write('row-1', 'settle', write)).toBe(false);
    expect(retry.holds('row-1')).toBe(true);
    down = false;
    await retry.flush();
    expect(retry.holds('row-1')).toBe(false);
    expect(written).toBe(1);
    retry.stop();
  });

  it('does not hold a write the database refused (a conflict), so recovery can settle the row', async () => {
    const retry = new LedgerRetry(log, 10);
    const refused = () => Promise.reject(Object.assign(new Error('duplicate key value violates unique constraint'), { code: '23505' }));
    expect(await retry.write('row-2', 'attach', refused)).toBe(false);
    expect(retry.holds('row-2')).toBe(false);
    expect(retry.size).toBe(0);
    retry.stop();
  });
});

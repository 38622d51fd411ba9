/** The CLI's one money formatter: exact from integer micro-USD, cents always, no float digits. */
import { describe, expect, it } from 'vitest';
import { money, moneyOfUsd, printable, table } from '../../src/cli/format.js';
import { microToUsdNumber } from '../../src/domain/pricing.js';

describe('money', () => {
  it.each([
    [0, '$0.00'],
    [5_000_000, '$5.00'],
    [41_600, '$0.0416'],
    [1, '$0.000001'],
    [1_234_567_891, '$1234.567891'],
    [-1_500_000, '-$1.50'],
    [Number.MAX_SAFE_INTEGER, '$9007199254.740991'],
    [null, '-'],
  ])('%s µUSD prints %s', (micro, text) => {
    expect(money(micro)).toBe(text);
  });

  it('formats the USD numbers the services answer as the integers they came from', () => {
    for (const micro of [1, 10, 5243, 20_000, 300_000, 999_999, 123_456_789]) expect(moneyOfUsd(microToUsdNumber(micro))).toBe(money(micro));
  });
});

describe('table', () => {
  it('pads columns to the widest cell and right-aligns the numeric ones', () => {
    expect(table(['name', 'usd'], [['a', '$1.00'], ['longer', '$10.00']], [1])).toBe('name       usd\na        $1.00\nlonger  $10.00');
  });
});

describe('printable', () => {
  it('replaces terminal control characters in text a key holder chose, in tables too', () => {
    const evil = 'team\u001b]0;pwned\u0007\u001b[2Jname\u009b31m';
    expect(printable(evil)).toBe('team\ufffd]0;pwned\ufffd\ufffd[2Jname\ufffd31m');
    const out = table(['name'], [[evil]]);
    // eslint-disable-next-line no-control-regex
    expect(out).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(printable('plain – ünïcode ✓')).toBe('plain – ünïcode ✓');
  });
});

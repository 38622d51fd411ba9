import { describe, expect, it } from 'vitest';
import { checkFaultPatch, DEFAULT_FAULTS, latencyFor, planCall } from '../../src/sim/faults.js';
import { billableUnits } from '../../src/sim/output.js';
import { randomSeed, rawTopLevelMember, readSeed } from '../../src/sim/raw-seed.js';
import { isLoopbackUrl } from '../../src/sim/webhook.js';

describe('rawTopLevelMember', () => {
  it.each([
    ['{"seed":196619188014358660}', '196619188014358660'],
    ['{ "prompt" : "a \\"seed\\": 1", "seed" : 42 }', '42'],
    ['{"nested":{"seed":1},"list":[{"seed":2}],"seed":-3}', '-3'],
    ['{"seed":1,"seed":18446744073709551617}', '18446744073709551617'],
    ['{"se\\u0065d":5}', '5'],
    ['{"prompt":"x"}', undefined],
    ['{"seed":null}', 'null'],
    ['[1]', undefined],
  ])('finds the raw text of the top-level seed in %s', (text, expected) => {
    expect(rawTopLevelMember(text, 'seed')).toBe(expected);
  });
});

describe('readSeed', () => {
  it('keeps integer literals verbatim and normalises integral floats', () => {
    expect(readSeed(196619188014358660, '196619188014358660')).toEqual({ ok: true, seed: '196619188014358660' });
    expect(readSeed(1000, '1e3')).toEqual({ ok: true, seed: '1000' });
    expect(readSeed(0, '-0')).toEqual({ ok: true, seed: '0' });
    expect(readSeed(null, 'null')).toEqual({ ok: true, seed: undefined });
    expect(readSeed(1.5, '1.5')).toMatchObject({ ok: false, type: 'int_from_float' });
    expect(readSeed(true, 'true')).toMatchObject({ ok: false, type: 'int_type' });
  });

  it('draws random seeds below 2^63 that often exceed 2^53', () => {
    expect(randomSeed(() => 0.999999)).toMatch(/^\d+$/);
    expect(BigInt(randomSeed(() => 0.999999))).toBeLessThan(2n ** 63n);
    expect(BigInt(randomSeed(() => 0.5))).toBeGreaterThan(2n ** 53n);
    expect(randomSeed(() => 0)).toBe('0');
  });
});

describe('isLoopbackUrl', () => {
  it.each([
    ['http://127.0.0.1:9000/hook', true],
    ['http://127.10.0.3/hook', true],
    ['http://localhost:1234/x', true],
    ['http://[::1]:8080/x', true],
    ['https://example.com/hook', false],
    ['http://10.0.0.1/hook', false],
    ['http://127.0.0.1.evil.com/hook', false],
    ['http://0.0.0.0/hook', false],
    ['file:///etc/passwd', false],
    ['not a url', false],
  ])('%s → %s', (url, expected) => {
    expect(isLoopbackUrl(url)).toBe(expected);
  });
});

describe('fault rules', () => {
  const never = (): number => 0.99;
  it('lets prompt triggers override the random rates', () => {
    const faults = { ...DEFAULT_FAULTS, errorRate: 1 };
    expect(planCall('[sim:hang]', faults, never, 'run')).toEqual({ transport: 'hang', submitBody: 'normal', reject429: false, outcome: 'ok', slow: false });
    expect(planCall('[sim:hang-before-body]', faults, never, 'run').transport).toBe('hang-before-body');
    expect(planCall('[sim:reset-before-headers]', faults, never, 'submit').transport).toBe('reset-before-headers');
    expect(planCall('[sim:garbage]', faults, never, 'submit')).toMatchObject({ transport: 'answer', submitBody: 'garbage', outcome: 'error' });
    expect(planCall('[sim:422] [sim:slow]', faults, never, 'submit')).toMatchObject({ outcome: 'late422', slow: true });
    expect(planCall('plain', faults, never, 'run').outcome).toBe('error');
  });

  it('never draws a random 429 for queue submits', () => {
    expect(planCall('x', { ...DEFAULT_FAULTS, rate429: 1 }, () => 0, 'submit').reject429).toBe(false);
    expect(planCall('x', { ...DEFAULT_FAULTS, rate429: 1 }, never, 'run').reject429).toBe(true);
  });

  it('keeps latency non-negative under jitter and multiplies it for [sim:slow]', () => {
    expect(latencyFor({ ...DEFAULT_FAULTS, latencyMs: 10, jitterMs: 50 }, false, () => 0)).toBe(0);
    expect(latencyFor({ ...DEFAULT_FAULTS, latencyMs: 10, jitterMs: 0 }, true, () => 0.5)).toBe(100);
  });

  it('accepts null as unlimited concurrency from JSON', () => {
    expect(checkFaultPatch({ syncConcurrency: null })).toEqual({ ok: true, patch: { syncConcurrency: Infinity } });
    expect(checkFaultPatch({ latencyMs: -1 }).ok).toBe(false);
  });
});

describe('billableUnits', () => {
  it.each([
    [1024, 1024, 1, 2],
    [1024, 768, 1, 1],
    [512, 512, 4, 4],
    [2048, 2048, 2, 10],
    [64, 64, 1, 1],
  ])('%i×%i ×%i images → %i units', (width, height, numImages, units) => {
    expect(billableUnits({ width, height, numImages })).toBe(units);
  });
});

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkPrice } from '../../src/sim/account-bill.js';
import { checkFaultPatch } from '../../src/sim/faults.js';
import { cursorFor } from '../../src/sim/usage-api.js';
import { signedMessage } from '../../src/sim/webhook-signing.js';

describe('cost-truth fault knobs', () => {
  it.each([
    [{ usageLagMs: 3_600_000 }, true],
    [{ usageLagMs: -1 }, false],
    [{ usageMaxPageSize: 0 }, true],
    [{ usageMaxPageSize: 2.5 }, false],
    [{ usageRate429: 1, usageRetryAfterS: 30 }, true],
    [{ usageRate429: 1.5 }, false],
    [{ webhookMaxRetries: 0, webhookBackoffMs: 0 }, true],
    [{ webhookMaxRetries: -1 }, false],
    [{ webhookBadSignatureRate: 0.5, webhookDuplicateRate: 1 }, true],
    [{ webhookDuplicateRate: '1' }, false],
    [{ billTwice: 'x' }, false],
  ])('%j valid: %s', (patch, ok) => {
    expect(checkFaultPatch(patch).ok).toBe(ok);
  });
});

describe('fal shapes the sim reproduces', () => {
  it('writes the cursor of page N as base64 of N, as fal\'s example "Mg==" (page 2)', () => {
    expect(cursorFor(2)).toBe('Mg==');
  });

  it('signs request_id, user_id, timestamp and the body\'s hex SHA-256, joined by newlines', () => {
    const body = '{"request_id":"r1","status":"OK"}';
    const digest = createHash('sha256').update(body).digest('hex');
    expect(signedMessage('r1', 'u1', 1700000000, body)).toBe(`r1\nu1\n1700000000\n${digest}`);
  });

  it('accepts a price of finite USD >= 0 per a named unit only', () => {
    expect(checkPrice({ unitPrice: 0, unit: 'megapixels' })).toEqual({ unitPrice: 0, unit: 'megapixels' });
    expect(typeof checkPrice({ unitPrice: Infinity, unit: 'megapixels' })).toBe('string');
    expect(typeof checkPrice({ unitPrice: 0.02 })).toBe('string');
  });
});

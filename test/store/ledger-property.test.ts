/**
 * Property (docs/reliability.md R3): random budgets, requests, outcomes and interleavings against
 * a plain model of the counters. After every step the store's counters equal the model's and no
 * limited counter holds more than its limit; a reservation made alone is accepted exactly when the
 * model says it fits, and refused with the model's scope, period and remaining. Steps are sometimes
 * launched together (Promise.all) so the adapters' atomicity is exercised too. About half the
 * requests go through a browser token with random max_usd and max_images, whose counters obey the
 * same invariants. Fixed seed; set LEDGER_PROPERTY_SEED to explore others.
 */
import fc from 'fast-check';
import { expect, it } from 'vitest';
import type { CounterRef } from '../../src/domain/budgets.js';
import type { LedgerStore, ReserveResult } from '../../src/store/ledger-store.js';
import { UNIT, usageTotals } from './ledger-fixtures.js';
import { amount, id, Run, timeOf, TIMES, TOKEN_PARENTS, WHO, type Outcome, type Req, type Scenario } from './ledger-model.js';
import { describeBackends } from './store-backends.js';

const SEED = Number(process.env.LEDGER_PROPERTY_SEED ?? 20260315);

/** Any amount, or one right at a whole number of quotes (±1 micro-USD), where off-by-one bugs show. */
const limit = fc.option(
  fc.oneof(
    fc.integer({ min: 0, max: 1_500_000 }),
    fc.tuple(fc.integer({ min: 0, max: 60 }), fc.integer({ min: -1, max: 1 })).map(([n, d]) => Math.max(0, n * UNIT + d)),
  ),
  { nil: null, freq: 3 },
);
const limits = fc.record({ lifetime: limit, day: limit, month: limit });
/** A token's max_images: small, so requests of 1–4 images reach it. */
const imageLimit = fc.option(fc.integer({ min: 0, max: 24 }), { nil: null, freq: 3 });
const request = fc.record({
  who: fc.nat({ max: WHO.length - 1 }),
  units: fc.integer({ min: 1, max: 8 }),
  images: fc.integer({ min: 1, max: 4 }),
  token: fc.option(fc.nat({ max: TOKEN_PARENTS.length - 1 }), { nil: null, freq: 2 }),
  time: fc.nat({ max: TIMES.length - 1 }),
  outcome: fc.oneof(
    fc.constant<Outcome>({ kind: 'settle', percent: 100 }),
    fc.integer({ min: 0, max: 99 }).map((percent): Outcome => ({ kind: 'settle', percent })),
    fc.constant<Outcome>({ kind: 'release' }),
  ),
});
const scenario: fc.Arbitrary<Scenario> = fc.record({
  keyLimits: limits,
  teamLimits: limits,
  tokens: fc.array(fc.record({ maxMicroUsd: limit, maxImages: imageLimit }), { minLength: TOKEN_PARENTS.length, maxLength: TOKEN_PARENTS.length }),
  requests: fc.array(request, { minLength: 1, maxLength: 40 }),
  choices: fc.array(fc.nat({ max: 1000 }), { minLength: 1, maxLength: 120 }),
});

/** Plays a scenario to the end: every request reserved once, every accepted one finished once, counters checked after each step. */
async function execute(ledger: LedgerStore, run: Run): Promise<void> {
  const { requests, choices } = run.sc;
  let next = 0;
  let step = 0;
  const open: number[] = [];
  const pick = (n: number): number => (choices[step++ % choices.length] ?? 0) % n;
  while (next < requests.length || open.length > 0) {
    // Up to 3 operations launched together: reserve the next request, or finish an open one.
    const size = 1 + pick(3);
    const batch: { index: number; reserve: boolean }[] = [];
    for (let k = 0; k < size && (next < requests.length || open.length > 0); k++) {
      const chosen = pick((next < requests.length ? 1 : 0) + open.length);
      if (next < requests.length && chosen === 0) batch.push({ index: next++, reserve: true });
      else batch.push({ index: open.splice(chosen - (next < requests.length ? 1 : 0), 1)[0] ?? -1, reserve: false });
    }
    const alone = batch.length === 1;
    const predicted = batch.map((op) => (op.reserve ? run.predict(requests[op.index] as Req) : null));
    const results = await Promise.all(batch.map((op) => perform(ledger, run, op.index, op.reserve)));
    batch.forEach((op, i) => {
      const r = requests[op.index] as Req;
      const result = results[i];
      if (op.reserve) {
        const reserved = result as ReserveResult;
        if (alone) expectPrediction(reserved, predicted[0] ?? null, run, r);
        if (reserved.ok) {
          run.move(r, 'reserve');
          open.push(op.index);
        }
      } else {
        expect(result, `finish ${op.index}`).toBe(true);
        run.move(r, r.outcome.kind);
      }
    });
    await run.check(ledger);
  }
}

function perform(ledger: LedgerStore, run: Run, index: number, reserve: boolean): Promise<ReserveResult | boolean> {
  const r = run.sc.requests[index] as Req;
  const at = timeOf(r);
  const reqId = `${run.tag}-r${index}`;
  if (reserve) {
    return ledger.reserve({
      id: reqId,
      keyId: run.keyId(r),
      team: run.team(r),
      operation: 'submit',
      quotedMicro: r.units * UNIT,
      requestedMegapixels: r.units,
      counters: run.counters(r),
      idempotencyKey: null,
      bodyHash: null,
      endUser: null,
      tokenId: run.token(r)?.tokenId ?? null,
      images: r.images,
      at,
    });
  }
  if (r.outcome.kind === 'release') return ledger.release(reqId, { outcome: 'failed', httpStatus: 500, at });
  return ledger.settle(reqId, { amountMicro: amount(r), billedUnits: r.units, source: 'billable_units', verified: true, outcome: 'ok', httpStatus: 200, at });
}

function expectPrediction(result: ReserveResult, refusing: CounterRef | null, run: Run, r: Req): void {
  if (refusing === null) {
    expect(result.ok, 'the model says it fits').toBe(true);
    return;
  }
  const m = run.model.get(id(refusing));
  const limit = refusing.limit ?? 0;
  const remaining = Math.max(0, limit - (m?.spentMicro ?? 0) - (m?.reservedMicro ?? 0));
  const unit = refusing.unit ?? 'micro_usd';
  expect(result, `refusal of ${r.units} units, ${r.images} images`).toEqual({ ok: false, reason: 'budget', scopeKind: refusing.scopeKind, period: refusing.period, unit, limit, remaining });
}

async function finalChecks(ledger: LedgerStore, run: Run): Promise<void> {
  for (const m of run.model.values()) expect(m.reservedMicro).toBe(0);
  for (const t of await ledger.counterTotals(run.allRefs)) expect(t.reservedMicro).toBe(0);
  const keys = WHO.map((w) => `${run.tag}-${w.key}`);
  const lifetime = await ledger.counterTotals(keys.map((k) => ({ scope: `key:${k}`, bucket: 'all' })));
  const expected = keys.map((k) => run.settledByKey.get(k) ?? 0);
  expect(lifetime.map((t) => t.spentMicro)).toEqual(expected);
  for (const [i, k] of keys.entries()) expect((await usageTotals(ledger, { keyId: k }))[0]).toMatchObject({ spentMicro: expected[i], reservedMicro: 0 });
  expect(await ledger.pending(1000).then((rows) => rows.filter((row) => row.id.startsWith(`${run.tag}-`)))).toEqual([]);
}

describeBackends('Ledger property', (fresh, backend) => {
  const numRuns = backend.name === 'postgres' ? 20 : 100;
  it(`keeps every limited counter within its limit and the counters equal to the model after every step (${numRuns} runs)`, async () => {
    const ledger = (await (await fresh()).open()).ledger;
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(scenario, async (sc) => {
        const run = new Run(`p${++runs}`, sc);
        await execute(ledger, run);
        await finalChecks(ledger, run);
      }),
      { seed: SEED, numRuns, endOnFailure: backend.name === 'postgres' },
    );
  }, 120_000);
});

/**
 * The one-message reservation (sql-ledger-reserve.ts guardedReservePlan) against the stepwise one
 * (reservePlan), on the same database state, on every backend. The claim in the code: the guarded
 * plan succeeds exactly when reservePlan would, and then returns the same result and leaves the
 * same rows and counters; when it fails (GuardFailed, or a unique violation) nothing is written.
 *
 * Each generated case builds one state twice, in two databases (reset between cases): prior rows
 * of the key, of another key (in flight, for the global cap) and of an idempotency key, through a
 * browser token or not, reserved, settled (at, below or above the quote) or released, on the
 * reservation's day, the day before, 1 ms before or 40 days before; then the key row (missing,
 * revoked, expiring before, at or after the reservation, budgets and max_concurrency), the team
 * row (none, or budgets) and the token's caps, each limit null, an absolute amount, or the
 * counter's use plus the reservation ±1 (its exact-fit edge). One database runs the guarded plan,
 * the other reservePlan. Fixed seed; GUARDED_RESERVE_SEED explores others, GUARDED_RESERVE_RUNS
 * sets the number of cases, GUARDED_RESERVE_STATS prints how the cases ended.
 *
 * The one case where the plans differ by design, checked as such in the property and in its own
 * test below: an idempotency key whose first try was released before reaching fal (retakable) is
 * taken over by reservePlan, while the guarded plan's insert conflicts and its guard fails; the
 * store then falls back to reservePlan (one more transaction, same outcome).
 */
import fc from 'fast-check';
import { afterEach, expect, it } from 'vitest';
import { countersFor, NO_LIMITS, type BudgetLimits, type CounterRef, type TokenCaps } from '../../src/domain/budgets.js';
import { hashKey } from '../../src/domain/keys.js';
import { reserveCounters, ReservationRefused } from '../../src/store/ledger-rules.js';
import type { LedgerRow, ReserveInput, ReserveResult } from '../../src/store/ledger-store.js';
import { PostgresDb } from '../../src/store/sql/postgres-db.js';
import { openPostgres } from '../../src/store/sql/postgres-pool.js';
import { CountersFull, refusal } from '../../src/store/sql/sql-ledger-counters.js';
import { guardedReservePlan, IdempotencyKeyTaken, reservePlan } from '../../src/store/sql/sql-ledger-reserve.js';
import { GuardFailed, query, sql, type Op, type Plan, type SqlDb } from '../../src/store/sql/sql-plan.js';
import { openSqliteDb } from '../../src/store/sql/sqlite-db.js';
import { sqlStores, type Stores } from '../../src/store/stores.js';
import { UNIT } from './ledger-fixtures.js';
import { createSchema, describeBackends, dropSchema, postgresUrl, type Backend } from './store-backends.js';

const SEED = Number(process.env.GUARDED_RESERVE_SEED ?? 20261202);
const RUNS = process.env.GUARDED_RESERVE_RUNS === undefined ? undefined : Number(process.env.GUARDED_RESERVE_RUNS);

const KEY = 'key_g';
const OTHER = 'key_other';
const TEAM = 'tm';
const TOKEN = 'tok_g';
const REQ = 'req_g';
const IDEM = 'idem_g';
const HASH = 'h';

/** Reservation instants: mid-month, a month's first instant (1 ms before is another day and month), a month's last. */
const TIMES = ['2026-03-15T12:00:00.000Z', '2026-04-01T00:00:00.000Z', '2026-03-31T23:59:59.999Z'] as const;

const FLUSH = sql('UPDATE ledger_entries SET state = state WHERE id = @id');
const RESET = ['DELETE FROM ledger_entries', 'DELETE FROM budget_counters', 'DELETE FROM keys', 'DELETE FROM teams'].map((t) => sql(t));
const ROWS = sql('SELECT * FROM ledger_entries ORDER BY id');
const COUNTERS = sql('SELECT scope, bucket, spent_micro, reserved_micro FROM budget_counters ORDER BY scope, bucket');

// ---------------------------------------------------------------------------------------------
// Cases

/** A limit: none, an amount, or the counter's use plus this reservation plus `edge` (−1: one short). */
type LimitSpec = null | { abs: number } | { edge: -1 | 0 | 1 };
type ScopeSpec = { lifetime: LimitSpec; day: LimitSpec; month: LimitSpec };
type Expiry = 'none' | 'before' | 'equal' | 'after';
type End = { kind: 'reserved' } | { kind: 'released'; outcome: string } | { kind: 'settled'; percent: number };

interface Prior {
  own: boolean;
  /** 0: at the reservation's instant; 1: 1 ms before; 2: a day before; 3: 40 days before. */
  age: 0 | 1 | 2 | 3;
  quote: number;
  images: number;
  viaToken: boolean;
  end: End;
}

interface Case {
  time: number;
  quote: number;
  images: number;
  team: boolean;
  teamRow: ScopeSpec | null;
  key: null | { limits: ScopeSpec; maxConcurrency: number | null; revoked: boolean; expiry: Expiry };
  token: null | { money: LimitSpec; images: LimitSpec };
  global: number | null;
  /** The caller's key cap and key limits: stale values fresh limits must ignore. */
  callerKeyCap: number | null;
  callerLimits: BudgetLimits;
  priors: Prior[];
  /** A prior row holding the reservation's idempotency key, and how it ended; null: the reservation has none. */
  idem: null | { mine: boolean; sameBody: boolean; end: End };
}

const limitSpec: fc.Arbitrary<LimitSpec> = fc.oneof(
  { weight: 6, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.constant({ abs: 0 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 6 * UNIT }).map((abs) => ({ abs })) },
  { weight: 4, arbitrary: fc.constantFrom<0 | 1>(0, 1).map((edge) => ({ edge })) },
  { weight: 2, arbitrary: fc.constant({ edge: -1 as const }) },
);
const NONE: ScopeSpec = { lifetime: null, day: null, month: null };
/** Half the scopes have no budget at all, so that reservations fit often enough. */
const scopeSpec: fc.Arbitrary<ScopeSpec> = fc.oneof(fc.constant(NONE), fc.record({ lifetime: limitSpec, day: limitSpec, month: limitSpec }));
const end: fc.Arbitrary<End> = fc.oneof(
  fc.constant<End>({ kind: 'reserved' }),
  fc.constantFrom('not_sent', 'refused_policy', 'failed').map((outcome): End => ({ kind: 'released', outcome })),
  fc.constantFrom(0, 50, 100, 150).map((percent): End => ({ kind: 'settled', percent })),
);
const quote = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3 * UNIT }), fc.integer({ min: 1, max: 3 }).map((n) => n * UNIT));
const prior: fc.Arbitrary<Prior> = fc.record({
  own: fc.boolean(),
  age: fc.constantFrom<0 | 1 | 2 | 3>(0, 1, 2, 3),
  quote,
  images: fc.integer({ min: 1, max: 3 }),
  viaToken: fc.boolean(),
  end,
});
const cap = (max: number) => fc.option(fc.integer({ min: 0, max }), { nil: null, freq: 2 });

const caseArb: fc.Arbitrary<Case> = fc.record({
  time: fc.nat({ max: TIMES.length - 1 }),
  quote,
  images: fc.integer({ min: 1, max: 3 }),
  team: fc.boolean(),
  teamRow: fc.option(scopeSpec, { nil: null, freq: 3 }),
  key: fc.option(
    fc.record({
      limits: scopeSpec,
      maxConcurrency: cap(3),
      revoked: fc.oneof({ weight: 11, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
      expiry: fc.oneof({ weight: 9, arbitrary: fc.constant<Expiry>('none') }, fc.constantFrom<Expiry>('before', 'equal', 'after')),
    }),
    { nil: null, freq: 16 },
  ),
  token: fc.option(fc.record({ money: limitSpec, images: limitSpec }), { nil: null, freq: 2 }),
  global: cap(4),
  callerKeyCap: cap(3),
  callerLimits: fc.record({ lifetime: cap(2 * UNIT), day: cap(2 * UNIT), month: cap(2 * UNIT) }),
  priors: fc.array(prior, { maxLength: 6 }),
  idem: fc.oneof(
    { weight: 3, arbitrary: fc.constant(null) },
    fc.record({
      mine: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
      sameBody: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
      end,
    }),
  ),
});

const ms = (iso: string, delta: number): string => new Date(Date.parse(iso) + delta).toISOString();
const DAY = 86_400_000;
const priorAt = (at: string, age: Prior['age']): string => ms(at, [0, -1, -DAY, -40 * DAY][age] ?? 0);

function counters(keyId: string, team: string | null, at: string, token: TokenCaps | null, keyLimits: BudgetLimits = NO_LIMITS): CounterRef[] {
  return countersFor(keyId, keyLimits, team, NO_LIMITS, new Date(at), token);
}

function priorInput(id: string, p: { own: boolean; quote: number; images: number; viaToken: boolean }, team: string | null, at: string, idem: { body: string } | null): ReserveInput {
  const keyId = p.own ? KEY : OTHER;
  const token = p.viaToken && p.own ? { tokenId: TOKEN, maxMicroUsd: null, maxImages: null } : null;
  return {
    id,
    keyId,
    team,
    operation: 'submit',
    quotedMicro: p.quote,
    requestedMegapixels: 1,
    counters: counters(keyId, team, at, token),
    idempotencyKey: idem === null ? null : IDEM,
    bodyHash: idem === null ? null : idem.body,
    endUser: null,
    tokenId: token?.tokenId ?? null,
    images: p.images,
    at,
    freshLimits: false,
  };
}

async function finish(stores: Stores, id: string, e: End, quoted: number, at: string): Promise<void> {
  if (e.kind === 'reserved') return;
  const done =
    e.kind === 'released'
      ? await stores.ledger.release(id, { outcome: e.outcome, httpStatus: null, at })
      : await stores.ledger.settle(id, { amountMicro: Math.floor((quoted * e.percent) / 100), billedUnits: null, source: 'quote', verified: false, outcome: 'ok', httpStatus: 200, at });
  if (!done) throw new Error(`prior row ${id} was not finished`);
}

function resolve(spec: LimitSpec, used: number, amount: number): number | null {
  if (spec === null) return null;
  if ('abs' in spec) return spec.abs;
  return Math.max(0, used + amount + spec.edge);
}

/**
 * Builds the case's state in `db` (emptied first) and returns the reservation to make on it. The
 * same case gives the same state and input on every database (ids and instants are fixed).
 */
async function build(db: SqlDb, c: Case): Promise<ReserveInput> {
  for (const stmt of RESET) await db.run(query(stmt));
  const stores = sqlStores(db);
  const at = TIMES[c.time] ?? TIMES[0];
  const team = c.team ? TEAM : null;
  for (const [i, p] of c.priors.entries()) {
    const pAt = priorAt(at, p.age);
    const r = await stores.ledger.reserve(priorInput(`p${i}`, p, team, pAt, null));
    if (!r.ok) throw new Error(`prior row p${i} refused: ${JSON.stringify(r)}`);
    await finish(stores, `p${i}`, p.end, p.quote, pAt);
  }
  if (c.idem !== null) {
    const p = { own: c.idem.mine, quote: UNIT, images: 1, viaToken: false };
    const r = await stores.ledger.reserve(priorInput('p_idem', p, team, at, { body: c.idem.sameBody ? HASH : 'other' }));
    if (!r.ok) throw new Error(`idempotency row refused: ${JSON.stringify(r)}`);
    await finish(stores, 'p_idem', c.idem.end, UNIT, at);
  }
  // Limits relative to what the prior rows left on the reservation's counters.
  const token: TokenCaps | null = c.token === null ? null : { tokenId: TOKEN, maxMicroUsd: null, maxImages: null };
  const refs = counters(KEY, team, at, token);
  const used = (await stores.ledger.counterTotals(refs)).map((t) => t.spentMicro + t.reservedMicro);
  const limitOf = (spec: LimitSpec, scope: string, period: CounterRef['period']): number | null => {
    const i = refs.findIndex((r) => r.scope === scope && r.period === period);
    const amount = scope.startsWith('token-images:') ? c.images : c.quote;
    return resolve(spec, used[i] ?? 0, amount);
  };
  if (c.key !== null) {
    const k = c.key;
    const expiresAt = { none: null, before: ms(at, -1), equal: at, after: ms(at, 1) }[k.expiry];
    await stores.keys.create({
      id: KEY,
      name: 'g',
      team,
      kind: 'secret',
      hash: hashKey('fgw_sk_guarded_reserve_test'),
      prefix: 'fgw_sk_guar',
      budgetMicroUsd: limitOf(k.limits.lifetime, `key:${KEY}`, 'lifetime'),
      budgetDailyMicroUsd: limitOf(k.limits.day, `key:${KEY}`, 'day'),
      budgetMonthlyMicroUsd: limitOf(k.limits.month, `key:${KEY}`, 'month'),
      rpm: null,
      maxConcurrency: k.maxConcurrency,
      allowedWebhookUrls: [],
      allowedOrigins: [],
      policy: null,
      expiresAt,
      createdAt: '2026-01-01T00:00:00.000Z',
    });
    if (k.revoked) await stores.keys.revoke(KEY, '2026-02-01T00:00:00.000Z');
  }
  if (team !== null && c.teamRow !== null) {
    const t = c.teamRow;
    await stores.teams.upsert({
      name: team,
      budgetMicroUsd: limitOf(t.lifetime, `team:${team}`, 'lifetime'),
      budgetDailyMicroUsd: limitOf(t.day, `team:${team}`, 'day'),
      budgetMonthlyMicroUsd: limitOf(t.month, `team:${team}`, 'month'),
      updatedAt: '2026-01-01T00:00:00.000Z',
    });
  }
  const caps: TokenCaps | null =
    c.token === null ? null : { tokenId: TOKEN, maxMicroUsd: limitOf(c.token.money, `token:${TOKEN}`, 'lifetime'), maxImages: limitOf(c.token.images, `token-images:${TOKEN}`, 'lifetime') };
  return {
    id: REQ,
    keyId: KEY,
    team,
    operation: 'run',
    quotedMicro: c.quote,
    requestedMegapixels: 1,
    counters: counters(KEY, team, at, caps, c.callerLimits),
    idempotencyKey: c.idem === null ? null : IDEM,
    bodyHash: c.idem === null ? null : HASH,
    endUser: null,
    tokenId: caps?.tokenId ?? null,
    images: c.images,
    unitPriceMicro: UNIT,
    at,
    inFlightLimits: { key: c.callerKeyCap, global: c.global },
    freshLimits: true,
  };
}

/** Whether reservePlan may take the case's idempotency key over (its first try never reached fal, same body). */
function retakable(c: Case): boolean {
  return c.idem !== null && c.idem.mine && c.idem.sameBody && c.idem.end.kind === 'released' && c.idem.end.outcome !== 'failed';
}

// ---------------------------------------------------------------------------------------------
// Running both plans

interface Snapshot {
  rows: Record<string, unknown>[];
  counters: Record<string, unknown>[];
}

async function snapshot(db: SqlDb): Promise<Snapshot> {
  return { rows: (await db.run(query(ROWS))).rows, counters: (await db.run(query(COUNTERS))).rows };
}

type Outcome = { ok: true; result: ReserveResult } | { ok: false; why: string; refused?: ReserveResult | null };

async function runGuarded(db: SqlDb, input: ReserveInput): Promise<Outcome> {
  try {
    return { ok: true, result: await db.transaction(guardedReservePlan(input, reserveCounters(input)), query(FLUSH, { id: input.id })) };
  } catch (err) {
    if (err instanceof GuardFailed) return { ok: false, why: 'guard' };
    if (db.isUniqueViolation(err)) return { ok: false, why: 'unique' };
    throw err;
  }
}

async function runStepwise(db: SqlDb, input: ReserveInput): Promise<Outcome> {
  try {
    return { ok: true, result: await db.transaction(reservePlan(input, reserveCounters(input)), () => query(FLUSH, { id: input.id })) };
  } catch (err) {
    if (err instanceof ReservationRefused) return { ok: false, why: 'refused', refused: err.result };
    // Which counter: the store's own read after the rollback (the state is as before the attempt).
    if (err instanceof CountersFull) return { ok: false, why: 'full', refused: await db.run(refusal(input, err.refs)) };
    if (err instanceof IdempotencyKeyTaken) return { ok: false, why: 'taken' };
    if (db.isUniqueViolation(err)) return { ok: false, why: 'unique' };
    throw err;
  }
}

/** A label per outcome, to show the cases reach every condition of the guard. */
function label(o: Outcome, c: Case): string {
  if (o.ok) return retakable(c) ? 'ok (retake)' : 'ok';
  const r = o.refused;
  if (r == null || r.ok) return o.why;
  if (r.reason === 'budget') return `budget ${r.scopeKind} ${r.period} ${r.unit}`;
  if (r.reason === 'concurrency') return `concurrency ${r.scope}`;
  return r.reason;
}

/** The rows in flight, as the store reports them. */
const pendingOf = async (db: SqlDb): Promise<LedgerRow[]> => sqlStores(db).ledger.pending(1000);

async function compare(guardedDb: SqlDb, stepwiseDb: SqlDb, c: Case, seen: Map<string, number>): Promise<void> {
  // The two databases are independent: each step runs on both at once.
  const [input, input2] = await Promise.all([build(guardedDb, c), build(stepwiseDb, c)]);
  expect(input2, 'both databases build the same reservation').toEqual(input);
  const [before, before2] = await Promise.all([snapshot(guardedDb), snapshot(stepwiseDb)]);
  expect(before2, 'both databases hold the same state').toEqual(before);
  const [g, s] = await Promise.all([runGuarded(guardedDb, input), runStepwise(stepwiseDb, input)]);
  const tag = label(s, c);
  seen.set(tag, (seen.get(tag) ?? 0) + 1);
  const [after, afterStepwise] = await Promise.all([snapshot(guardedDb), snapshot(stepwiseDb)]);
  if (!g.ok) expect(after, `a failed guarded plan (${g.why}) writes nothing`).toEqual(before);
  if (!s.ok) expect(afterStepwise, `a refused reservePlan (${s.why}) writes nothing`).toEqual(before);
  if (s.ok && retakable(c)) {
    // The known gap (see the file's comment and the it.fails below): the store falls back.
    expect(g, 'a retakable idempotency key: the guarded plan falls back').toEqual({ ok: false, why: 'guard' });
    return;
  }
  expect(g.ok, `guarded ${g.ok ? 'ok' : g.why} vs reservePlan ${tag}`).toBe(s.ok);
  if (!g.ok || !s.ok) return;
  expect(g.result).toEqual(s.result);
  const refs = reserveCounters(input);
  const [gl, sl] = [sqlStores(guardedDb).ledger, sqlStores(stepwiseDb).ledger];
  expect(await gl.counterTotals(refs)).toEqual(await sl.counterTotals(refs));
  expect(await pendingOf(guardedDb)).toEqual(await pendingOf(stepwiseDb));
  expect(after, 'every row and counter').toEqual(afterStepwise);
}

// ---------------------------------------------------------------------------------------------
// Databases

interface Opened {
  db: SqlDb;
  dispose(): Promise<void>;
}

async function openDb(backend: Backend): Promise<Opened> {
  if (backend.name === 'sqlite') {
    const db = openSqliteDb(':memory:');
    return { db, dispose: () => db.close() };
  }
  const schema = await createSchema();
  const db = new PostgresDb(await openPostgres(postgresUrl(), { schema, max: 2 }));
  return {
    db,
    dispose: async () => {
      await db.close();
      await dropSchema(schema);
    },
  };
}

/** A SqlDb that records each transaction: the kinds of op its plan yielded and how it ended. */
class RecordingDb implements SqlDb {
  readonly transactions: { ops: Op['kind'][]; error?: unknown }[] = [];
  constructor(private readonly inner: SqlDb) {}
  get dialect(): 'sqlite' | 'postgres' {
    return this.inner.dialect;
  }
  run<T>(plan: Plan<T>): Promise<T> {
    return this.inner.run(plan);
  }
  write<T>(plan: Plan<T>): Promise<T> {
    return this.inner.write(plan);
  }
  async transaction<T>(plan: Plan<T>, flush?: Plan<unknown> | ((result: T) => Plan<unknown> | null)): Promise<T> {
    const record: { ops: Op['kind'][]; error?: unknown } = { ops: [] };
    this.transactions.push(record);
    try {
      return await this.inner.transaction(observed(plan, record.ops), flush);
    } catch (err) {
      record.error = err;
      throw err;
    }
  }
  isUniqueViolation(err: unknown): boolean {
    return this.inner.isUniqueViolation(err);
  }
  isForeignKeyViolation(err: unknown): boolean {
    return this.inner.isForeignKeyViolation(err);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

function* observed<T>(plan: Plan<T>, kinds: Op['kind'][]): Plan<T> {
  let step = plan.next();
  while (step.done !== true) {
    kinds.push(step.value.kind);
    step = plan.next(yield step.value);
  }
  return step.value;
}

// ---------------------------------------------------------------------------------------------

describeBackends('Guarded reservation', (_fresh, backend) => {
  const opened: Opened[] = [];
  const open = async (): Promise<SqlDb> => {
    const o = await openDb(backend);
    opened.push(o);
    return o.db;
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((o) => o.dispose()));
  });

  const numRuns = RUNS ?? (backend.name === 'postgres' ? 400 : 500);
  it(`succeeds exactly when reservePlan does on the same state, with the same result, rows and counters, and writes nothing when it fails (${numRuns} runs)`, async () => {
    const [guardedDb, stepwiseDb] = [await open(), await open()];
    const seen = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(caseArb, (c) => compare(guardedDb, stepwiseDb, c, seen)),
      { seed: SEED, numRuns, endOnFailure: backend.name === 'postgres' },
    );
    if (process.env.GUARDED_RESERVE_STATS !== undefined) console.info(`${backend.name}: ${JSON.stringify(Object.fromEntries(seen))}`);
    // The cases reach every way a reservation ends (a different seed or fewer runs may miss some).
    if (RUNS === undefined && process.env.GUARDED_RESERVE_SEED === undefined) {
      const labels = [...seen.keys()];
      for (const want of [
        'ok',
        'ok (retake)',
        'revoked',
        'expired',
        'taken',
        'concurrency key',
        'concurrency global',
        'budget key lifetime micro_usd',
        'budget key day micro_usd',
        'budget key month micro_usd',
        'budget team lifetime micro_usd',
        'budget team day micro_usd',
        'budget team month micro_usd',
        'budget token lifetime micro_usd',
        'budget token lifetime images',
      ]) {
        expect(labels, `no case ended "${want}": ${JSON.stringify(Object.fromEntries(seen))}`).toContain(want);
      }
    }
    // Room for a loaded machine (the whole suite at once): ~18 s for Postgres's 400 runs unloaded.
  }, Math.max(180_000, numRuns * 500));

  it('makes a reservation that fits with the guarded plan alone: one transaction, one batch, no fallback', async () => {
    const db = new RecordingDb(await open());
    const stores = sqlStores(db);
    const key = { limits: { lifetime: { edge: 0 }, day: { edge: 0 }, month: null }, maxConcurrency: 2, revoked: false, expiry: 'after' } satisfies Case['key'];
    const c: Case = {
      time: 0,
      quote: UNIT,
      images: 2,
      team: true,
      teamRow: { lifetime: { edge: 0 }, day: null, month: { edge: 1 } },
      key,
      token: { money: { edge: 0 }, images: { edge: 0 } },
      global: 2,
      callerKeyCap: null,
      callerLimits: NO_LIMITS,
      priors: [
        { own: true, age: 0, quote: UNIT, images: 1, viaToken: true, end: { kind: 'reserved' } },
        { own: true, age: 2, quote: UNIT, images: 1, viaToken: true, end: { kind: 'settled', percent: 50 } },
      ],
      idem: null,
    };
    const input = await build(db, c);
    db.transactions.length = 0;
    const result = await stores.ledger.reserve(input);
    expect(result).toMatchObject({ ok: true, row: { id: REQ, state: 'reserved' }, fresh: { key: { id: KEY, maxConcurrency: 2 } } });
    expect(db.transactions).toEqual([{ ops: ['batch'] }]);
    // One unit short on the key's lifetime budget: the guard fails and reservePlan says why.
    const short = await build(db, { ...c, key: { ...key, limits: { ...key.limits, lifetime: { edge: -1 } } } });
    db.transactions.length = 0;
    expect(await stores.ledger.reserve(short)).toMatchObject({ ok: false, reason: 'budget', scopeKind: 'key', period: 'lifetime' });
    expect(db.transactions.map((t) => [t.ops[0], t.error instanceof GuardFailed || t.error instanceof CountersFull ? t.error.constructor.name : t.error])).toEqual([
      // Explained from reads (diagnosePlan), not by a second transaction that locks the counters again.
      ['batch', 'GuardFailed'],
    ]);
  });

  /** A reservation of one unit for a live key without limits, team, token or history. */
  const plainCase = (): Case => ({
    time: 0,
    quote: UNIT,
    images: 1,
    team: false,
    teamRow: null,
    key: { limits: NONE, maxConcurrency: null, revoked: false, expiry: 'none' },
    token: null,
    global: null,
    callerKeyCap: null,
    callerLimits: NO_LIMITS,
    priors: [],
    idem: null,
  });

  // reservePlan takes over an idempotency key whose first try never reached fal; the guarded
  // plan's insert conflicts instead, so the store falls back to reservePlan, which does it.
  it('leaves a retakable idempotency key to reservePlan, through which the store takes it over', async () => {
    const [guardedDb, stepwiseDb] = [await open(), await open()];
    const c: Case = { ...plainCase(), idem: { mine: true, sameBody: true, end: { kind: 'released', outcome: 'not_sent' } } };
    const input = await build(guardedDb, c);
    await build(stepwiseDb, c);
    expect(await runStepwise(stepwiseDb, input)).toMatchObject({ ok: true });
    expect(await runGuarded(guardedDb, input)).toEqual({ ok: false, why: 'guard' });
    expect(await sqlStores(guardedDb).ledger.reserve(input)).toMatchObject({ ok: true, row: { id: input.id } });
  });

  // Input the store accepts but the pipeline never makes (it passes Date#toISOString): an `at`
  // not in canonical form. Both plans compare the key's expires_at with instant(at); compared with
  // `at` as given, as text, 12:00:00Z would sort after 12:00:00.500Z ('.' before 'Z').
  it('agrees with reservePlan on the expiry of a key when `at` is not in canonical form', async () => {
    const [guardedDb, stepwiseDb] = [await open(), await open()];
    const inputs: ReserveInput[] = [];
    for (const db of [guardedDb, stepwiseDb]) {
      const c = plainCase();
      const input = await build(db, c);
      await sqlStores(db).keys.update(KEY, { expiresAt: '2026-03-15T12:00:00.500Z' });
      inputs.push({ ...input, at: '2026-03-15T12:00:00Z' });
    }
    const [gi, si] = inputs;
    if (gi === undefined || si === undefined) throw new Error('two inputs expected');
    const [g, s] = [await runGuarded(guardedDb, gi), await runStepwise(stepwiseDb, si)];
    expect(g).toMatchObject({ ok: true });
    expect(s.ok, `reservePlan: ${JSON.stringify(s)}`).toBe(g.ok);
  });
});

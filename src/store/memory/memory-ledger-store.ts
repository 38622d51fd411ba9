/**
 * In-memory LedgerStore: the twin the contract suite and unit tests use. Each method runs to
 * completion synchronously before its promise settles, so a reservation's check-and-charge cannot
 * interleave with another's: the same atomicity the SQL adapters get from a transaction.
 */
import type { CounterRef } from '../../domain/budgets.js';
import {
  assertSettle,
  attempt,
  budgetRefusal,
  concurrencyRefusal,
  falIdConflict,
  instant,
  reserveAmount,
  reserveCounters,
  reservedRow,
  unchargeMoves,
  unknownRow,
} from '../ledger-rules.js';
import type { KeyStore } from '../key-store.js';
import { applyFreshLimits, isOverrun, mayRetakeIdempotencyKey } from '../ledger-fresh-limits.js';
import type {
  CounterTotals,
  FreshLimits,
  LedgerPageQuery,
  LedgerRow,
  LedgerStore,
  ReleaseInput,
  ReserveInput,
  ReserveResult,
  SettleInput,
  UsageGridQuery,
  UsageGridRow,
  UsageQuery,
  UsageRow,
} from '../ledger-store.js';
import type { OwnershipRecord } from '../ownership-store.js';
import type { TeamStore } from '../team-store.js';
import { aggregateGrid, aggregateUsage, lastUsedOf, pageRows } from './memory-ledger-usage.js';
import { MemoryOwnershipStore } from './memory-ownership-store.js';

const counterId = (c: Pick<CounterRef, 'scope' | 'bucket'>): string => `${c.scope}\u0000${c.bucket}`;

export class MemoryLedgerStore implements LedgerStore {
  private readonly rows = new Map<string, LedgerRow>();
  private readonly counters = new Map<string, CounterTotals>();

  /**
   * `limits`: where `freshLimits` reservations read the key and team rows (the memory twins of the
   * same stores); `owners`: the ownership twin a submit's attach records its owner in.
   */
  constructor(
    private readonly limits?: { keys: KeyStore; teams: TeamStore },
    private readonly owners = new MemoryOwnershipStore(),
  ) {}

  async reserve(input: ReserveInput): Promise<ReserveResult> {
    // Read before the synchronous check-and-charge: in one process nothing else can interleave there.
    // Without the key and team stores (a bare ledger in unit tests) the given limits are all there is.
    const readsLimits = input.freshLimits === true && this.limits !== undefined;
    const fresh = readsLimits ? await this.readFreshLimits(input) : null;
    return attempt((): ReserveResult => {
      const given = reserveCounters(input);
      if (this.rows.has(input.id)) throw new Error(`ledger row ${input.id} already exists`);
      const existing = input.idempotencyKey === null ? undefined : this.byIdempotencyKey(input.keyId, input.idempotencyKey);
      if (existing && !mayRetakeIdempotencyKey(existing, input)) return { ok: false, reason: 'duplicate', existing: { ...existing } };
      const applied = applyFreshLimits({ ...input, freshLimits: readsLimits }, given, fresh);
      if ('ok' in applied) return applied;
      const refs = applied.refs;
      // Check every counter before charging any: nothing to roll back on refusal.
      for (const ref of refs) {
        const t = this.totals(ref);
        if (ref.limit !== null && t.spentMicro + t.reservedMicro + reserveAmount(ref, input) > ref.limit) {
          return budgetRefusal(ref, ref.limit, t.spentMicro, t.reservedMicro);
        }
      }
      const open = () => [...this.rows.values()].filter((r) => r.state === 'reserved');
      const busy = concurrencyRefusal({ ...input, inFlightLimits: applied.inFlightLimits }, () => open().filter((r) => r.keyId === input.keyId).length, () => open().length);
      if (busy) return busy;
      // Taken over only now that nothing can refuse: a refusal leaves the key with the old row.
      if (existing) existing.idempotencyKey = null;
      for (const ref of refs) this.move(ref, reserveAmount(ref, input), 0);
      const row = reservedRow(input);
      this.rows.set(row.id, row);
      return fresh === null ? { ok: true, row: { ...row } } : { ok: true, row: { ...row }, fresh };
    });
  }

  /** Whether any ledger row names this key (MemoryKeyStore refuses a hard delete then). */
  hasRowsForKey(keyId: string): boolean {
    return [...this.rows.values()].some((r) => r.keyId === keyId);
  }

  private async readFreshLimits(input: ReserveInput): Promise<FreshLimits | null> {
    if (!this.limits) return null;
    const key = await this.limits.keys.get(input.keyId);
    if (key === null) return null;
    const team = input.team === null ? null : await this.limits.teams.get(input.team);
    return { key, team: { lifetime: team?.budgetMicroUsd ?? null, day: team?.budgetDailyMicroUsd ?? null, month: team?.budgetMonthlyMicroUsd ?? null } };
  }

  attachFalRequestId(id: string, falRequestId: string, owner?: Omit<OwnershipRecord, 'requestId'>): Promise<void> {
    return attempt(() => {
      const row = this.rows.get(id);
      if (!row) throw unknownRow(id);
      this.assertAttachable(row, falRequestId);
      const rec = owner && { requestId: falRequestId, ...owner };
      if (rec) this.owners.assertFree(rec);
      row.falRequestId = falRequestId;
      if (rec) this.owners.recordNow(rec);
    });
  }

  /** A row takes a fal id it already has, or any id no other row has, when it has none yet. */
  private assertAttachable(row: LedgerRow, falRequestId: string): void {
    if (row.falRequestId === falRequestId) return;
    const taken = [...this.rows.values()].some((r) => r.falRequestId === falRequestId);
    if (row.falRequestId !== null || taken) throw falIdConflict(row.id, falRequestId);
  }

  markSent(id: string, deadlineAt: string): Promise<boolean> {
    return attempt(() => {
      const deadline = instant(deadlineAt);
      const row = this.rows.get(id);
      if (row?.state !== 'reserved') return false;
      Object.assign(row, { upstreamPhase: 'sent', deadlineAt: deadline } satisfies Partial<LedgerRow>);
      return true;
    });
  }

  settle(id: string, input: SettleInput): Promise<boolean> {
    return attempt(() => this.settleNow(id, input));
  }

  private settleNow(id: string, input: SettleInput): boolean {
    assertSettle(input);
    const settledAt = instant(input.at);
    const row = this.rows.get(id);
    if (row?.state !== 'reserved') return false;
    if (input.falRequestId != null) this.assertAttachable(row, input.falRequestId);
    for (const m of unchargeMoves(row, input.amountMicro)) this.move(m.ref, m.reservedDelta, m.spentDelta);
    Object.assign(row, {
      state: 'settled',
      outcome: input.outcome,
      settledMicro: input.amountMicro,
      billedUnits: input.billedUnits,
      settleSource: input.source,
      verified: input.verified,
      httpStatus: input.httpStatus,
      settledAt,
      falRequestId: input.falRequestId ?? row.falRequestId,
      overrun: isOverrun(input.amountMicro, row.quotedMicro),
    } satisfies Partial<LedgerRow>);
    return true;
  }

  release(id: string, input: ReleaseInput): Promise<boolean> {
    return attempt(() => {
      const settledAt = instant(input.at);
      const row = this.rows.get(id);
      if (row?.state !== 'reserved' || (input.onlyUnsent === true && row.upstreamPhase !== 'reserved')) return false;
      if (input.falRequestId != null) this.assertAttachable(row, input.falRequestId);
      for (const m of unchargeMoves(row, null)) this.move(m.ref, m.reservedDelta, m.spentDelta);
      const falRequestId = input.falRequestId ?? row.falRequestId;
      Object.assign(row, { state: 'released', outcome: input.outcome, httpStatus: input.httpStatus, settledAt, falRequestId } satisfies Partial<LedgerRow>);
      return true;
    });
  }

  get(id: string): Promise<LedgerRow | null> {
    return Promise.resolve(copy(this.rows.get(id)));
  }

  findByFalRequestId(falRequestId: string): Promise<LedgerRow | null> {
    return Promise.resolve(copy([...this.rows.values()].find((r) => r.falRequestId === falRequestId)));
  }

  findByIdempotencyKey(keyId: string, idempotencyKey: string): Promise<LedgerRow | null> {
    return Promise.resolve(copy(this.byIdempotencyKey(keyId, idempotencyKey)));
  }

  pending(limit: number): Promise<LedgerRow[]> {
    const open = [...this.rows.values()].filter((r) => r.state === 'reserved').sort(byCreation);
    return Promise.resolve(open.slice(0, Math.max(0, limit)).map((r) => ({ ...r })));
  }

  counterTotals(refs: Pick<CounterRef, 'scope' | 'bucket'>[]): Promise<CounterTotals[]> {
    return Promise.resolve(refs.map((r) => ({ ...this.totals(r) })));
  }

  usage(query: UsageQuery): Promise<UsageRow[]> {
    return attempt(() => aggregateUsage(this.rows.values(), query));
  }

  usageGrid(query: UsageGridQuery): Promise<UsageGridRow[]> {
    return attempt(() => aggregateGrid(this.rows.values(), query));
  }

  lastUsed(keyId?: string): Promise<Map<string, string>> {
    return Promise.resolve(lastUsedOf(this.rows.values(), keyId));
  }

  page(query: LedgerPageQuery): Promise<LedgerRow[]> {
    return attempt(() => pageRows(this.rows.values(), query));
  }

  /** IdempotencyStore.expire for the memory twin: forgets keys of rows created before `before`; returns their ids. */
  forgetIdempotencyKeys(before: string): string[] {
    const cutoff = instant(before);
    const forgotten: string[] = [];
    for (const r of this.rows.values()) {
      if (r.idempotencyKey === null || r.createdAt >= cutoff) continue;
      r.idempotencyKey = null;
      forgotten.push(r.id);
    }
    return forgotten;
  }

  private byIdempotencyKey(keyId: string, idempotencyKey: string): LedgerRow | undefined {
    return [...this.rows.values()].find((r) => r.keyId === keyId && r.idempotencyKey === idempotencyKey);
  }

  private totals(ref: Pick<CounterRef, 'scope' | 'bucket'>): CounterTotals {
    return this.counters.get(counterId(ref)) ?? { spentMicro: 0, reservedMicro: 0 };
  }

  private move(ref: CounterRef, reservedDelta: number, spentDelta: number): void {
    const t = this.totals(ref);
    this.counters.set(counterId(ref), { reservedMicro: t.reservedMicro + reservedDelta, spentMicro: t.spentMicro + spentDelta });
  }
}

function byCreation(a: LedgerRow, b: LedgerRow): number {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function copy(row: LedgerRow | undefined): LedgerRow | null {
  return row ? { ...row } : null;
}

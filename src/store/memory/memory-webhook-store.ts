/** In-memory WebhookStore: the twin the contract suite and unit tests use. */
import type { NewRelay, RelayOutcome, RelayRow, WebhookStore } from '../webhook-store.js';

interface Held extends RelayRow {
  leaseOwner: string | null;
  leaseUntil: number | null;
}

export class MemoryWebhookStore implements WebhookStore {
  private readonly rows = new Map<string, Held>();
  private key: string | undefined;

  register(r: NewRelay): Promise<void> {
    if (!this.rows.has(r.ledgerId)) {
      this.rows.set(r.ledgerId, {
        ...r,
        falRequestId: null,
        body: null,
        state: 'awaiting',
        attempts: 0,
        nextAttemptAt: null,
        lastStatus: null,
        lastError: null,
        receivedAt: null,
        finishedAt: null,
        leaseOwner: null,
        leaseUntil: null,
      });
    }
    return Promise.resolve();
  }

  received(ledgerId: string, falRequestId: string, body: Buffer, at: number): Promise<boolean> {
    const row = this.rows.get(ledgerId);
    if (row?.state !== 'awaiting') return Promise.resolve(false);
    if (row.url === null) {
      Object.assign(row, { state: 'delivered', falRequestId, receivedAt: at, finishedAt: at });
      return Promise.resolve(false);
    }
    Object.assign(row, { state: 'pending', falRequestId, body: Buffer.from(body), receivedAt: at, nextAttemptAt: at });
    return Promise.resolve(true);
  }

  registrations(ledgerIds: readonly string[]): Promise<Map<string, { receivedAt: number | null }>> {
    const out = new Map<string, { receivedAt: number | null }>();
    for (const id of ledgerIds) {
      const row = this.rows.get(id);
      if (row) out.set(id, { receivedAt: row.receivedAt });
    }
    return Promise.resolve(out);
  }

  claimDue(owner: string, now: number, leaseMs: number, limit: number): Promise<RelayRow[]> {
    const due = [...this.rows.values()]
      .filter((r) => r.state === 'pending' && (r.nextAttemptAt ?? 0) <= now && (r.leaseUntil === null || r.leaseUntil < now))
      .sort((a, b) => (a.nextAttemptAt ?? 0) - (b.nextAttemptAt ?? 0))
      .slice(0, limit);
    for (const r of due) Object.assign(r, { leaseOwner: owner, leaseUntil: now + leaseMs });
    return Promise.resolve(due.map(copy));
  }

  finish(ledgerId: string, owner: string, o: RelayOutcome): Promise<boolean> {
    const row = this.rows.get(ledgerId);
    if (row?.state !== 'pending' || row.leaseOwner !== owner) return Promise.resolve(false);
    row.attempts++;
    row.leaseOwner = null;
    row.leaseUntil = null;
    row.lastStatus = o.status;
    if (o.kind === 'delivered') Object.assign(row, { state: 'delivered', finishedAt: o.at, lastError: null });
    else if (o.kind === 'failed') Object.assign(row, { state: 'failed', finishedAt: o.at, lastError: o.error });
    else Object.assign(row, { nextAttemptAt: o.nextAttemptAt, lastError: o.error });
    return Promise.resolve(true);
  }

  get(ledgerId: string): Promise<RelayRow | null> {
    const row = this.rows.get(ledgerId);
    return Promise.resolve(row ? copy(row) : null);
  }

  prune(before: number): Promise<number> {
    let n = 0;
    for (const [id, r] of this.rows) {
      const old = r.state === 'awaiting' ? r.createdAt < before : r.state !== 'pending' && (r.finishedAt ?? 0) < before;
      if (old && this.rows.delete(id)) n++;
    }
    return Promise.resolve(n);
  }

  signingKey(candidate: string): Promise<string> {
    this.key ??= candidate;
    return Promise.resolve(this.key);
  }
}

function copy(r: Held): RelayRow {
  const { leaseOwner: _o, leaseUntil: _u, ...row } = r;
  return { ...row, body: row.body === null ? null : Buffer.from(row.body) };
}

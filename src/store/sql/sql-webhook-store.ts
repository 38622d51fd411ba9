/**
 * WebhookStore on SQLite or Postgres (sql-plan.ts). A claim is a conditional UPDATE per candidate
 * row (still pending, lease free): on Postgres a second instance's UPDATE waits for the first's
 * row lock and then re-reads the condition, so it changes nothing; on SQLite writes are serialised
 * anyway. Only the instance whose UPDATE changed the row sends it.
 */
import type { NewRelay, RelayOutcome, RelayRow, RelayState, WebhookStore } from '../webhook-store.js';
import { dynamicSql, first, query, sql, type SqlDb } from './sql-plan.js';

/** Ids per IN list: well under either database's parameter limit. */
const REGISTRATION_BATCH = 200;

const COLUMNS = 'ledger_id, key_id, url, fal_request_id, body, state, attempts, next_attempt_at, last_status, last_error, created_at, received_at, finished_at';

const S = {
  register: sql(`INSERT INTO webhook_relays (ledger_id, key_id, url, state, attempts, created_at)
                 VALUES (@ledgerId, @keyId, @url, 'awaiting', 0, @createdAt) ON CONFLICT (ledger_id) DO NOTHING`),
  received: sql(`UPDATE webhook_relays SET state = 'pending', fal_request_id = @falRequestId, body = @body, received_at = @at, next_attempt_at = @at
                 WHERE ledger_id = @ledgerId AND state = 'awaiting' AND url IS NOT NULL`),
  receivedSettleOnly: sql(`UPDATE webhook_relays SET state = 'delivered', fal_request_id = @falRequestId, received_at = @at, finished_at = @at
                           WHERE ledger_id = @ledgerId AND state = 'awaiting' AND url IS NULL`),
  due: sql(`SELECT ledger_id FROM webhook_relays
            WHERE state = 'pending' AND next_attempt_at <= @now AND (lease_until IS NULL OR lease_until < @now)
            ORDER BY next_attempt_at LIMIT @limit`),
  lease: sql(`UPDATE webhook_relays SET lease_owner = @owner, lease_until = @until
              WHERE ledger_id = @ledgerId AND state = 'pending' AND (lease_until IS NULL OR lease_until < @now)`),
  leased: sql(`SELECT ${COLUMNS} FROM webhook_relays WHERE ledger_id = @ledgerId AND lease_owner = @owner AND state = 'pending'`),
  finish: sql(`UPDATE webhook_relays SET attempts = attempts + 1, lease_owner = NULL, lease_until = NULL, state = @state,
                 last_status = @status, last_error = @error, next_attempt_at = @nextAttemptAt, finished_at = @finishedAt
               WHERE ledger_id = @ledgerId AND lease_owner = @owner AND state = 'pending'`),
  get: sql(`SELECT ${COLUMNS} FROM webhook_relays WHERE ledger_id = @ledgerId`),
  prune: sql(`DELETE FROM webhook_relays
              WHERE (state IN ('delivered', 'failed') AND finished_at < @before) OR (state = 'awaiting' AND created_at < @before)`),
  insertKey: sql(`INSERT INTO webhook_signing_keys (id, private_key, created_at) VALUES ('current', @key, @at) ON CONFLICT (id) DO NOTHING`),
  key: sql(`SELECT private_key FROM webhook_signing_keys WHERE id = 'current'`),
};

interface Row {
  ledger_id: string;
  key_id: string;
  url: string | null;
  fal_request_id: string | null;
  body: Buffer | Uint8Array | null;
  state: RelayState;
  attempts: number;
  next_attempt_at: number | null;
  last_status: number | null;
  last_error: string | null;
  created_at: number;
  received_at: number | null;
  finished_at: number | null;
}

function toRelay(r: Row): RelayRow {
  return {
    ledgerId: r.ledger_id,
    keyId: r.key_id,
    url: r.url,
    falRequestId: r.fal_request_id,
    body: r.body === null ? null : Buffer.from(r.body),
    state: r.state,
    attempts: Number(r.attempts),
    nextAttemptAt: r.next_attempt_at,
    lastStatus: r.last_status,
    lastError: r.last_error,
    createdAt: r.created_at,
    receivedAt: r.received_at,
    finishedAt: r.finished_at,
  };
}

export class SqlWebhookStore implements WebhookStore {
  constructor(private readonly db: SqlDb) {}

  async register(r: NewRelay): Promise<void> {
    await this.db.run(query(S.register, { ledgerId: r.ledgerId, keyId: r.keyId, url: r.url, createdAt: r.createdAt }));
  }

  async received(ledgerId: string, falRequestId: string, body: Buffer, at: number): Promise<boolean> {
    if ((await this.db.run(query(S.received, { ledgerId, falRequestId, body, at }))).count === 1) return true;
    await this.db.run(query(S.receivedSettleOnly, { ledgerId, falRequestId, at }));
    return false;
  }

  async registrations(ledgerIds: readonly string[]): Promise<Map<string, { receivedAt: number | null }>> {
    const out = new Map<string, { receivedAt: number | null }>();
    for (let i = 0; i < ledgerIds.length; i += REGISTRATION_BATCH) {
      const batch = ledgerIds.slice(i, i + REGISTRATION_BATCH);
      const params = Object.fromEntries(batch.map((id, n) => [`id${n}`, id]));
      const list = batch.map((_, n) => `@id${n}`).join(', ');
      const stmt = dynamicSql(`SELECT ledger_id, received_at FROM webhook_relays WHERE ledger_id IN (${list})`);
      const { rows } = await this.db.run(query<{ ledger_id: string; received_at: number | string | null }>(stmt, params));
      for (const r of rows) out.set(r.ledger_id, { receivedAt: r.received_at === null ? null : Number(r.received_at) });
    }
    return out;
  }

  async claimDue(owner: string, now: number, leaseMs: number, limit: number): Promise<RelayRow[]> {
    const { rows } = await this.db.run(query<{ ledger_id: string }>(S.due, { now, limit }));
    const out: RelayRow[] = [];
    for (const { ledger_id: ledgerId } of rows) {
      const leased = await this.db.run(query(S.lease, { ledgerId, owner, until: now + leaseMs, now }));
      if (leased.count !== 1) continue; // another instance took it
      const row = await this.db.run(first<Row>(S.leased, { ledgerId, owner }));
      if (row) out.push(toRelay(row));
    }
    return out;
  }

  async finish(ledgerId: string, owner: string, o: RelayOutcome): Promise<boolean> {
    const params = {
      ledgerId,
      owner,
      state: o.kind === 'retry' ? 'pending' : o.kind,
      status: o.status,
      error: o.kind === 'delivered' ? null : o.error,
      nextAttemptAt: o.kind === 'retry' ? o.nextAttemptAt : null,
      finishedAt: o.kind === 'retry' ? null : o.at,
    };
    return (await this.db.run(query(S.finish, params))).count === 1;
  }

  async get(ledgerId: string): Promise<RelayRow | null> {
    const row = await this.db.run(first<Row>(S.get, { ledgerId }));
    return row ? toRelay(row) : null;
  }

  async prune(before: number): Promise<number> {
    return (await this.db.run(query(S.prune, { before }))).count;
  }

  async signingKey(candidate: string, at: number): Promise<string> {
    await this.db.run(query(S.insertKey, { key: candidate, at }));
    const row = await this.db.run(first<{ private_key: string }>(S.key));
    if (!row) throw new Error('webhook signing key was not stored');
    return row.private_key;
  }
}

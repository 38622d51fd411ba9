/** KeyStore on the embedded SQLite database. Statements are prepared once. */
import type { KeyPolicy } from '../../domain/policy.js';
import { keyKind, type KeyPatch, type KeyRecord, type KeyStore, type NewKey } from '../key-store.js';
import type { SqliteDb } from './sqlite-database.js';

interface KeyRow {
  id: string;
  name: string;
  team: string | null;
  kind: string;
  prefix: string;
  budget_micro_usd: number | null;
  budget_daily_micro_usd: number | null;
  budget_monthly_micro_usd: number | null;
  rpm: number | null;
  max_concurrency: number | null;
  allowed_webhook_urls: string;
  allowed_origins: string;
  policy: string | null;
  created_at: string;
  revoked_at: string | null;
}

const COLUMNS =
  'id, name, team, kind, prefix, budget_micro_usd, budget_daily_micro_usd, budget_monthly_micro_usd, rpm, max_concurrency, ' +
  'allowed_webhook_urls, allowed_origins, policy, created_at, revoked_at';

/** Patchable fields and their columns; `update` builds its SET list from this table only. */
const PATCH_COLUMNS: Record<keyof KeyPatch, string> = {
  name: 'name',
  team: 'team',
  budgetMicroUsd: 'budget_micro_usd',
  budgetDailyMicroUsd: 'budget_daily_micro_usd',
  budgetMonthlyMicroUsd: 'budget_monthly_micro_usd',
  rpm: 'rpm',
  maxConcurrency: 'max_concurrency',
  allowedWebhookUrls: 'allowed_webhook_urls',
  allowedOrigins: 'allowed_origins',
  policy: 'policy',
};

/** JSON columns hold text: arrays as JSON, the policy as JSON or NULL. */
const JSON_FIELDS = new Set<keyof KeyPatch>(['allowedWebhookUrls', 'allowedOrigins', 'policy']);

export class SqliteKeyStore implements KeyStore {
  private readonly insert;
  private readonly byHash;
  private readonly byId;
  private readonly all;
  private readonly revokeStmt;

  constructor(private readonly db: SqliteDb) {
    this.insert = db.prepare(
      `INSERT INTO keys (id, name, team, kind, hash, prefix, budget_micro_usd, budget_daily_micro_usd, budget_monthly_micro_usd,
                         rpm, max_concurrency, allowed_webhook_urls, allowed_origins, policy, created_at)
       VALUES (@id, @name, @team, @kind, @hash, @prefix, @budgetMicroUsd, @budgetDailyMicroUsd, @budgetMonthlyMicroUsd,
               @rpm, @maxConcurrency, @allowedWebhookUrls, @allowedOrigins, @policy, @createdAt)`,
    );
    this.byHash = db.prepare<[string], KeyRow>(`SELECT ${COLUMNS} FROM keys WHERE hash = ? AND revoked_at IS NULL`);
    this.byId = db.prepare<[string], KeyRow>(`SELECT ${COLUMNS} FROM keys WHERE id = ?`);
    this.all = db.prepare<[], KeyRow>(`SELECT ${COLUMNS} FROM keys ORDER BY created_at, id`);
    this.revokeStmt = db.prepare('UPDATE keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?');
  }

  async create(key: NewKey): Promise<KeyRecord> {
    this.insert.run({
      ...key,
      allowedWebhookUrls: JSON.stringify(key.allowedWebhookUrls),
      allowedOrigins: JSON.stringify(key.allowedOrigins),
      policy: jsonOrNull(key.policy),
    });
    const created = await this.get(key.id);
    if (!created) throw new Error('key vanished after insert');
    return created;
  }

  findActiveByHash(hash: string): Promise<KeyRecord | null> {
    const row = this.byHash.get(hash);
    return Promise.resolve(row ? toRecord(row) : null);
  }

  get(id: string): Promise<KeyRecord | null> {
    const row = this.byId.get(id);
    return Promise.resolve(row ? toRecord(row) : null);
  }

  list(): Promise<KeyRecord[]> {
    return Promise.resolve(this.all.all().map(toRecord));
  }

  async update(id: string, patch: KeyPatch): Promise<KeyRecord | null> {
    const sets: string[] = [];
    const params: Record<string, unknown> = { id };
    for (const [field, column] of Object.entries(PATCH_COLUMNS) as [keyof KeyPatch, string][]) {
      const value = patch[field];
      if (value === undefined) continue;
      sets.push(`${column} = @${field}`);
      params[field] = JSON_FIELDS.has(field) ? jsonOrNull(value) : value;
    }
    if (sets.length > 0) this.db.prepare(`UPDATE keys SET ${sets.join(', ')} WHERE id = @id`).run(params);
    return this.get(id);
  }

  async revoke(id: string, at: string): Promise<KeyRecord | null> {
    this.revokeStmt.run(at, id);
    return this.get(id);
  }
}

function toRecord(row: KeyRow): KeyRecord {
  return {
    id: row.id,
    name: row.name,
    team: row.team,
    kind: keyKind(row.kind),
    prefix: row.prefix,
    budgetMicroUsd: row.budget_micro_usd,
    budgetDailyMicroUsd: row.budget_daily_micro_usd,
    budgetMonthlyMicroUsd: row.budget_monthly_micro_usd,
    rpm: row.rpm,
    maxConcurrency: row.max_concurrency,
    allowedWebhookUrls: JSON.parse(row.allowed_webhook_urls) as string[],
    allowedOrigins: JSON.parse(row.allowed_origins) as string[],
    policy: row.policy === null ? null : (JSON.parse(row.policy) as KeyPolicy),
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  };
}

function jsonOrNull(value: unknown): string | null {
  return value === null ? null : JSON.stringify(value);
}

/** For the ledger's reserve transaction, which reads the key row in force (sqlite-ledger-store.ts). */
export { COLUMNS as KEY_COLUMNS, toRecord as toKeyRecord, type KeyRow as SqliteKeyRow };

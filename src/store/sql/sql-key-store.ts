/** KeyStore on SQLite or Postgres (sql-plan.ts): one set of statements for both. */
import type { KeyPolicy } from '../../domain/policy.js';
import { keyKind, type HardDeleteResult, type KeyPatch, type KeyRecord, type KeyRotation, type KeyStore, type NewKey } from '../key-store.js';
import { dynamicSql, query, sql, type Params, type SqlDb, type SqlValue } from './sql-plan.js';

export interface KeyRow {
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
  /** JSON columns are read as text on both databases. */
  allowed_webhook_urls: string;
  allowed_origins: string;
  policy: string | null;
  owner: string | null;
  metadata: string | null;
  expires_at: string | null;
  previous_hash_until: string | null;
  created_at: string;
  revoked_at: string | null;
}

export const KEY_COLUMNS =
  'id, name, team, kind, prefix, budget_micro_usd, budget_daily_micro_usd, budget_monthly_micro_usd, rpm, max_concurrency, ' +
  'allowed_webhook_urls::text AS allowed_webhook_urls, allowed_origins::text AS allowed_origins, policy::text AS policy, ' +
  'owner, metadata::text AS metadata, expires_at, previous_hash_until, created_at, revoked_at';

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
  owner: 'owner',
  metadata: 'metadata',
  expiresAt: 'expires_at',
};

/** JSON columns: sent as JSON text (a null policy as SQL NULL). */
const JSON_FIELDS = new Set<keyof KeyPatch>(['allowedWebhookUrls', 'allowedOrigins', 'policy', 'metadata']);

const Q = {
  insert: sql(
    `INSERT INTO keys (id, name, team, kind, hash, prefix, budget_micro_usd, budget_daily_micro_usd, budget_monthly_micro_usd,
                       rpm, max_concurrency, allowed_webhook_urls, allowed_origins, policy, owner, metadata, expires_at, created_at)
     VALUES (@id, @name, @team, @kind, @hash, @prefix, @budgetMicroUsd, @budgetDailyMicroUsd, @budgetMonthlyMicroUsd,
             @rpm, @maxConcurrency, @allowedWebhookUrls::jsonb, @allowedOrigins::jsonb, @policy::jsonb, @owner, @metadata::jsonb, @expiresAt, @createdAt)
     RETURNING ${KEY_COLUMNS}`,
  ),
  // Two indexed lookups (hash, previous_hash): the current secret, or a replaced one in its grace.
  byHash: sql(
    `SELECT ${KEY_COLUMNS} FROM keys
     WHERE revoked_at IS NULL AND (hash = @hash OR (previous_hash = @hash AND previous_hash_until > @at))`,
  ),
  byId: sql(`SELECT ${KEY_COLUMNS} FROM keys WHERE id = @id`),
  all: sql(`SELECT ${KEY_COLUMNS} FROM keys ORDER BY created_at, id`),
  rotateWithGrace: sql(
    `UPDATE keys SET previous_hash = hash, previous_hash_until = @graceUntil, hash = @hash, prefix = @prefix
     WHERE id = @id AND revoked_at IS NULL RETURNING ${KEY_COLUMNS}`,
  ),
  rotateNow: sql(
    `UPDATE keys SET previous_hash = NULL, previous_hash_until = NULL, hash = @hash, prefix = @prefix
     WHERE id = @id AND revoked_at IS NULL RETURNING ${KEY_COLUMNS}`,
  ),
  // One statement, so a reservation cannot add a row between the check and the delete.
  hardDelete: sql(`DELETE FROM keys WHERE id = @id AND NOT EXISTS (SELECT 1 FROM ledger_entries WHERE key_id = @id) RETURNING id`),
  revoke: sql(`UPDATE keys SET revoked_at = COALESCE(revoked_at, @at) WHERE id = @id RETURNING ${KEY_COLUMNS}`),
};

export class SqlKeyStore implements KeyStore {
  constructor(private readonly db: SqlDb) {}

  async create(key: NewKey): Promise<KeyRecord> {
    const created = await this.one(Q.insert, {
      id: key.id,
      name: key.name,
      team: key.team,
      kind: key.kind,
      hash: key.hash,
      prefix: key.prefix,
      budgetMicroUsd: key.budgetMicroUsd,
      budgetDailyMicroUsd: key.budgetDailyMicroUsd,
      budgetMonthlyMicroUsd: key.budgetMonthlyMicroUsd,
      rpm: key.rpm,
      maxConcurrency: key.maxConcurrency,
      allowedWebhookUrls: JSON.stringify(key.allowedWebhookUrls),
      allowedOrigins: JSON.stringify(key.allowedOrigins),
      policy: jsonOrNull(key.policy),
      owner: key.owner ?? null,
      metadata: jsonOrNull(key.metadata ?? null),
      expiresAt: key.expiresAt ?? null,
      createdAt: key.createdAt,
    });
    if (!created) throw new Error('INSERT … RETURNING returned no row');
    return created;
  }

  findActiveByHash(hash: string, at: string): Promise<KeyRecord | null> {
    return this.one(Q.byHash, { hash, at });
  }

  get(id: string): Promise<KeyRecord | null> {
    return this.one(Q.byId, { id });
  }

  async list(): Promise<KeyRecord[]> {
    return (await this.db.run(query<KeyRow>(Q.all))).rows.map(toKeyRecord);
  }

  update(id: string, patch: KeyPatch): Promise<KeyRecord | null> {
    const sets: string[] = [];
    const params: Record<string, SqlValue> = { id };
    for (const [field, column] of Object.entries(PATCH_COLUMNS) as [keyof KeyPatch, string][]) {
      const value = patch[field];
      if (value === undefined) continue;
      const isJson = JSON_FIELDS.has(field);
      sets.push(`${column} = @${field}${isJson ? '::jsonb' : ''}`);
      params[field] = isJson ? jsonOrNull(value) : (value as SqlValue);
    }
    if (sets.length === 0) return this.get(id);
    return this.one(dynamicSql(`UPDATE keys SET ${sets.join(', ')} WHERE id = @id RETURNING ${KEY_COLUMNS}`), params);
  }

  revoke(id: string, at: string): Promise<KeyRecord | null> {
    return this.one(Q.revoke, { id, at });
  }

  rotate(id: string, r: KeyRotation): Promise<KeyRecord | null> {
    if (r.graceUntil === null) return this.one(Q.rotateNow, { id, hash: r.hash, prefix: r.prefix });
    return this.one(Q.rotateWithGrace, { id, hash: r.hash, prefix: r.prefix, graceUntil: r.graceUntil });
  }

  async hardDelete(id: string): Promise<HardDeleteResult> {
    const deleted = await this.db.run(query(Q.hardDelete, { id }));
    if (deleted.rows.length > 0) return 'deleted';
    return (await this.get(id)) === null ? 'not_found' : 'has_ledger_rows';
  }

  private async one(stmt: ReturnType<typeof sql>, params: Params): Promise<KeyRecord | null> {
    const row = (await this.db.run(query<KeyRow>(stmt, params))).rows[0];
    return row ? toKeyRecord(row) : null;
  }
}

export function toKeyRecord(row: KeyRow): KeyRecord {
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
    owner: row.owner,
    metadata: row.metadata === null ? null : (JSON.parse(row.metadata) as Record<string, unknown>),
    expiresAt: row.expires_at,
    previousSecretUntil: row.previous_hash_until,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  };
}

function jsonOrNull(value: unknown): string | null {
  return value === null ? null : JSON.stringify(value);
}

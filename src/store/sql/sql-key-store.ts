/** KeyStore on SQLite or Postgres (sql-plan.ts): one set of statements for both. */
import type { KeyPolicy } from '../../domain/policy.js';
import { keyKind, type KeyPatch, type KeyRecord, type KeyStore, type NewKey } from '../key-store.js';
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
  created_at: string;
  revoked_at: string | null;
}

export const KEY_COLUMNS =
  'id, name, team, kind, prefix, budget_micro_usd, budget_daily_micro_usd, budget_monthly_micro_usd, rpm, max_concurrency, ' +
  'allowed_webhook_urls::text AS allowed_webhook_urls, allowed_origins::text AS allowed_origins, policy::text AS policy, created_at, revoked_at';

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

/** JSON columns: sent as JSON text (a null policy as SQL NULL). */
const JSON_FIELDS = new Set<keyof KeyPatch>(['allowedWebhookUrls', 'allowedOrigins', 'policy']);

const Q = {
  insert: sql(
    `INSERT INTO keys (id, name, team, kind, hash, prefix, budget_micro_usd, budget_daily_micro_usd, budget_monthly_micro_usd,
                       rpm, max_concurrency, allowed_webhook_urls, allowed_origins, policy, created_at)
     VALUES (@id, @name, @team, @kind, @hash, @prefix, @budgetMicroUsd, @budgetDailyMicroUsd, @budgetMonthlyMicroUsd,
             @rpm, @maxConcurrency, @allowedWebhookUrls::jsonb, @allowedOrigins::jsonb, @policy::jsonb, @createdAt)
     RETURNING ${KEY_COLUMNS}`,
  ),
  byHash: sql(`SELECT ${KEY_COLUMNS} FROM keys WHERE hash = @hash AND revoked_at IS NULL`),
  byId: sql(`SELECT ${KEY_COLUMNS} FROM keys WHERE id = @id`),
  all: sql(`SELECT ${KEY_COLUMNS} FROM keys ORDER BY created_at, id`),
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
      createdAt: key.createdAt,
    });
    if (!created) throw new Error('INSERT … RETURNING returned no row');
    return created;
  }

  findActiveByHash(hash: string): Promise<KeyRecord | null> {
    return this.one(Q.byHash, { hash });
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
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  };
}

function jsonOrNull(value: unknown): string | null {
  return value === null ? null : JSON.stringify(value);
}

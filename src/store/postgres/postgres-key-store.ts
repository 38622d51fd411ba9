/**
 * KeyStore on PostgreSQL. Fixed statements are named, so each pooled connection prepares them once;
 * the pool's type parsers (postgres-database.ts) return BIGINT as numbers and TIMESTAMPTZ as ISO.
 */
import type { KeyPolicy } from '../../domain/policy.js';
import { keyKind, type KeyPatch, type KeyRecord, type KeyStore, type NewKey } from '../key-store.js';
import type { PgPool } from './postgres-database.js';

type KeyRow = {
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
  allowed_webhook_urls: string[];
  allowed_origins: string[];
  /** JSONB comes back parsed. */
  policy: KeyPolicy | null;
  created_at: string;
  revoked_at: string | null;
};

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

/** JSONB columns: sent as JSON text (pg would send a JS array as a Postgres array literal); a null policy as SQL NULL. */
const JSON_FIELDS = new Set<keyof KeyPatch>(['allowedWebhookUrls', 'allowedOrigins', 'policy']);

export class PostgresKeyStore implements KeyStore {
  constructor(private readonly pool: PgPool) {}

  async create(key: NewKey): Promise<KeyRecord> {
    const { rows } = await this.pool.query<KeyRow>({
      name: 'fgw_key_create',
      text: `INSERT INTO keys (id, name, team, kind, hash, prefix, budget_micro_usd, budget_daily_micro_usd, budget_monthly_micro_usd,
                               rpm, max_concurrency, allowed_webhook_urls, allowed_origins, policy, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb, $13::jsonb, $14::jsonb, $15)
             RETURNING ${COLUMNS}`,
      values: [
        key.id,
        key.name,
        key.team,
        key.kind,
        key.hash,
        key.prefix,
        key.budgetMicroUsd,
        key.budgetDailyMicroUsd,
        key.budgetMonthlyMicroUsd,
        key.rpm,
        key.maxConcurrency,
        JSON.stringify(key.allowedWebhookUrls),
        JSON.stringify(key.allowedOrigins),
        jsonOrNull(key.policy),
        key.createdAt,
      ],
    });
    return toRecord(only(rows));
  }

  async findActiveByHash(hash: string): Promise<KeyRecord | null> {
    const { rows } = await this.pool.query<KeyRow>({
      name: 'fgw_key_by_hash',
      text: `SELECT ${COLUMNS} FROM keys WHERE hash = $1 AND revoked_at IS NULL`,
      values: [hash],
    });
    return maybe(rows);
  }

  async get(id: string): Promise<KeyRecord | null> {
    const { rows } = await this.pool.query<KeyRow>({ name: 'fgw_key_by_id', text: `SELECT ${COLUMNS} FROM keys WHERE id = $1`, values: [id] });
    return maybe(rows);
  }

  async list(): Promise<KeyRecord[]> {
    const { rows } = await this.pool.query<KeyRow>({ name: 'fgw_key_list', text: `SELECT ${COLUMNS} FROM keys ORDER BY created_at, id` });
    return rows.map(toRecord);
  }

  async update(id: string, patch: KeyPatch): Promise<KeyRecord | null> {
    const sets: string[] = [];
    const values: unknown[] = [id];
    for (const [field, column] of Object.entries(PATCH_COLUMNS) as [keyof KeyPatch, string][]) {
      const value = patch[field];
      if (value === undefined) continue;
      const isJson = JSON_FIELDS.has(field);
      values.push(isJson ? jsonOrNull(value) : value);
      sets.push(`${column} = $${values.length}${isJson ? '::jsonb' : ''}`);
    }
    if (sets.length === 0) return this.get(id);
    const { rows } = await this.pool.query<KeyRow>(`UPDATE keys SET ${sets.join(', ')} WHERE id = $1 RETURNING ${COLUMNS}`, values);
    return maybe(rows);
  }

  async revoke(id: string, at: string): Promise<KeyRecord | null> {
    const { rows } = await this.pool.query<KeyRow>({
      name: 'fgw_key_revoke',
      text: `UPDATE keys SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1 RETURNING ${COLUMNS}`,
      values: [id, at],
    });
    return maybe(rows);
  }
}

function maybe(rows: KeyRow[]): KeyRecord | null {
  const row = rows[0];
  return row ? toRecord(row) : null;
}

function only(rows: KeyRow[]): KeyRow {
  const row = rows[0];
  if (!row) throw new Error('INSERT … RETURNING returned no row');
  return row;
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
    allowedWebhookUrls: row.allowed_webhook_urls,
    allowedOrigins: row.allowed_origins,
    policy: row.policy,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  };
}

function jsonOrNull(value: unknown): string | null {
  return value === null ? null : JSON.stringify(value);
}

/** For the ledger's reserve transaction, which reads the key row in force (postgres-ledger-writes.ts). */
export { COLUMNS as KEY_COLUMNS, toRecord as toKeyRecord, type KeyRow as PgKeyRow };

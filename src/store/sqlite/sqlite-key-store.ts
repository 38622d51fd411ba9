/** KeyStore on the embedded SQLite database. Statements are prepared once. */
import type { KeyPatch, KeyRecord, KeyStore, NewKey } from '../key-store.js';
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
  created_at: string;
  revoked_at: string | null;
}

const COLUMNS =
  'id, name, team, kind, prefix, budget_micro_usd, budget_daily_micro_usd, budget_monthly_micro_usd, rpm, max_concurrency, allowed_webhook_urls, created_at, revoked_at';

export class SqliteKeyStore implements KeyStore {
  private readonly insert;
  private readonly byHash;
  private readonly byId;
  private readonly all;
  private readonly revokeStmt;

  constructor(private readonly db: SqliteDb) {
    this.insert = db.prepare(
      `INSERT INTO keys (id, name, team, kind, hash, prefix, budget_micro_usd, budget_daily_micro_usd, budget_monthly_micro_usd,
                         rpm, max_concurrency, allowed_webhook_urls, created_at)
       VALUES (@id, @name, @team, @kind, @hash, @prefix, @budgetMicroUsd, @budgetDailyMicroUsd, @budgetMonthlyMicroUsd,
               @rpm, @maxConcurrency, @allowedWebhookUrls, @createdAt)`,
    );
    this.byHash = db.prepare<[string], KeyRow>(`SELECT ${COLUMNS} FROM keys WHERE hash = ? AND revoked_at IS NULL`);
    this.byId = db.prepare<[string], KeyRow>(`SELECT ${COLUMNS} FROM keys WHERE id = ?`);
    this.all = db.prepare<[], KeyRow>(`SELECT ${COLUMNS} FROM keys ORDER BY created_at, id`);
    this.revokeStmt = db.prepare('UPDATE keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?');
  }

  async create(key: NewKey): Promise<KeyRecord> {
    this.insert.run({ ...key, allowedWebhookUrls: JSON.stringify(key.allowedWebhookUrls) });
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
    const columns: Record<keyof KeyPatch, string> = {
      name: 'name',
      team: 'team',
      budgetMicroUsd: 'budget_micro_usd',
      budgetDailyMicroUsd: 'budget_daily_micro_usd',
      budgetMonthlyMicroUsd: 'budget_monthly_micro_usd',
      rpm: 'rpm',
      maxConcurrency: 'max_concurrency',
      allowedWebhookUrls: 'allowed_webhook_urls',
    };
    for (const [field, column] of Object.entries(columns) as [keyof KeyPatch, string][]) {
      const value = patch[field];
      if (value === undefined) continue;
      sets.push(`${column} = @${field}`);
      params[field] = field === 'allowedWebhookUrls' ? JSON.stringify(value) : value;
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
    kind: 'secret',
    prefix: row.prefix,
    budgetMicroUsd: row.budget_micro_usd,
    budgetDailyMicroUsd: row.budget_daily_micro_usd,
    budgetMonthlyMicroUsd: row.budget_monthly_micro_usd,
    rpm: row.rpm,
    maxConcurrency: row.max_concurrency,
    allowedWebhookUrls: JSON.parse(row.allowed_webhook_urls) as string[],
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  };
}

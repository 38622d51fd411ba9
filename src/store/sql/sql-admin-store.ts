/** AdminStore on SQLite or Postgres (sql-plan.ts). */
import type { AdminRecord, AdminRole, AdminStore, AuditEntry, AuditFilter } from '../admin-store.js';
import { dynamicSql, query, sql, type SqlDb, type SqlValue } from './sql-plan.js';

interface AdminRow {
  id: string;
  name: string;
  role: string;
  hash: string;
  prefix: string;
  created_at: string;
  revoked_at: string | null;
}

interface AuditRow {
  id: string;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  before_value: string | null;
  after_value: string | null;
  client_ip: string | null;
}

const COLUMNS = 'id, name, role, hash, prefix, created_at, revoked_at';
const AUDIT_COLUMNS = 'id, at, actor, action, target, before_value::text AS before_value, after_value::text AS after_value, client_ip';

const Q = {
  create: sql(`INSERT INTO admin_credentials (${COLUMNS}) VALUES (@id, @name, @role, @hash, @prefix, @createdAt, NULL) RETURNING ${COLUMNS}`),
  list: sql(`SELECT ${COLUMNS} FROM admin_credentials ORDER BY created_at, id COLLATE "C"`),
  byHash: sql(`SELECT ${COLUMNS} FROM admin_credentials WHERE hash = @hash AND revoked_at IS NULL`),
  revoke: sql(`UPDATE admin_credentials SET revoked_at = COALESCE(revoked_at, @at) WHERE id = @id RETURNING ${COLUMNS}`),
  append: sql(
    `INSERT INTO admin_audit (id, at, actor, action, target, before_value, after_value, client_ip)
     VALUES (@id, @at, @actor, @action, @target, @before::jsonb, @after::jsonb, @clientIp)`,
  ),
};

export class SqlAdminStore implements AdminStore {
  constructor(private readonly db: SqlDb) {}

  async create(r: AdminRecord): Promise<AdminRecord> {
    const row = (await this.db.run(query<AdminRow>(Q.create, { id: r.id, name: r.name, role: r.role, hash: r.hash, prefix: r.prefix, createdAt: r.createdAt }))).rows[0];
    if (!row) throw new Error('admin insert returned no row');
    return toRecord(row);
  }

  async list(): Promise<AdminRecord[]> {
    return (await this.db.run(query<AdminRow>(Q.list))).rows.map(toRecord);
  }

  async findActiveByHash(hash: string): Promise<AdminRecord | null> {
    const row = (await this.db.run(query<AdminRow>(Q.byHash, { hash }))).rows[0];
    return row ? toRecord(row) : null;
  }

  async revoke(id: string, at: string): Promise<AdminRecord | null> {
    const row = (await this.db.run(query<AdminRow>(Q.revoke, { id, at }))).rows[0];
    return row ? toRecord(row) : null;
  }

  async appendAudit(e: AuditEntry): Promise<void> {
    const json = (v: unknown) => (v === undefined || v === null ? null : JSON.stringify(v));
    await this.db.run(query(Q.append, { id: e.id, at: e.at, actor: e.actor, action: e.action, target: e.target, before: json(e.before), after: json(e.after), clientIp: e.clientIp }));
  }

  async listAudit(f: AuditFilter): Promise<AuditEntry[]> {
    // Built per call from the filters given; every value is a parameter.
    const where: string[] = [];
    const params: Record<string, SqlValue> = { limit: f.limit };
    for (const field of ['actor', 'action', 'target'] as const) {
      const v = f[field];
      if (v !== undefined) {
        where.push(`${field} = @${field}`);
        params[field] = v;
      }
    }
    if (f.from !== undefined) {
      where.push('at >= @from::timestamptz');
      params.from = f.from;
    }
    if (f.to !== undefined) {
      where.push('at <= @to::timestamptz');
      params.to = f.to;
    }
    if (f.before !== undefined) {
      where.push('(at < @beforeAt::timestamptz OR (at = @beforeAt::timestamptz AND id < @beforeId))');
      params.beforeAt = f.before.at;
      params.beforeId = f.before.id;
    }
    const text = `SELECT ${AUDIT_COLUMNS} FROM admin_audit ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY at DESC, id COLLATE "C" DESC LIMIT @limit`;
    return (await this.db.run(query<AuditRow>(dynamicSql(text), params))).rows.map(toEntry);
  }
}

function toRecord(row: AdminRow): AdminRecord {
  return { id: row.id, name: row.name, role: row.role as AdminRole, hash: row.hash, prefix: row.prefix, createdAt: row.created_at, revokedAt: row.revoked_at };
}

function toEntry(row: AuditRow): AuditEntry {
  const parse = (v: string | null): unknown => (v === null ? null : JSON.parse(v));
  return { id: row.id, at: row.at, actor: row.actor, action: row.action, target: row.target, before: parse(row.before_value), after: parse(row.after_value), clientIp: row.client_ip };
}

/** SessionStore on SQLite or Postgres (sql-plan.ts). Instants are ISO-8601 text on SQLite, so text order is time order. */
import type { AdminRole } from '../admin-store.js';
import type { SessionRecord, SessionStore, SignInCode } from '../session-store.js';
import { query, sql, type SqlDb } from './sql-plan.js';

interface SessionRow {
  id_hash: string;
  actor: string;
  role: string;
  credential_id: string;
  csrf_token: string;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
}

const COLUMNS = 's.id_hash, s.actor, s.role, s.credential_id, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at';

const Q = {
  create: sql(
    `INSERT INTO admin_sessions (id_hash, actor, role, credential_id, csrf_token, created_at, last_seen_at, expires_at)
     VALUES (@idHash, @actor, @role, @credentialId, @csrfToken, @createdAt::timestamptz, @lastSeenAt::timestamptz, @expiresAt::timestamptz)`,
  ),
  // A revoked named credential ends its sessions here, on every instance, without a cascade.
  find: sql(
    `SELECT ${COLUMNS} FROM admin_sessions s WHERE s.id_hash = @idHash
       AND NOT EXISTS (SELECT 1 FROM admin_credentials c WHERE c.id = s.credential_id AND c.revoked_at IS NOT NULL)`,
  ),
  touch: sql(`UPDATE admin_sessions SET last_seen_at = @at::timestamptz WHERE id_hash = @idHash AND last_seen_at <= @notBefore::timestamptz`),
  delete: sql(`DELETE FROM admin_sessions WHERE id_hash = @idHash`),
  purgeSessions: sql(`DELETE FROM admin_sessions WHERE expires_at <= @now::timestamptz OR last_seen_at <= @idleBefore::timestamptz`),
  purgeCodes: sql(`DELETE FROM console_sign_in_codes WHERE expires_at <= @now::timestamptz`),
  createCode: sql(`INSERT INTO console_sign_in_codes (hash, created_at, expires_at) VALUES (@hash, @createdAt::timestamptz, @expiresAt::timestamptz)`),
  // One DELETE decides: of two instances consuming the same code at once, only one deletes the row.
  consumeCode: sql(`DELETE FROM console_sign_in_codes WHERE hash = @hash RETURNING expires_at`),
};

export class SqlSessionStore implements SessionStore {
  constructor(private readonly db: SqlDb) {}

  async create(s: SessionRecord): Promise<void> {
    await this.db.run(query(Q.create, { idHash: s.idHash, actor: s.actor, role: s.role, credentialId: s.credentialId, csrfToken: s.csrfToken, createdAt: s.createdAt, lastSeenAt: s.lastSeenAt, expiresAt: s.expiresAt }));
  }

  async find(idHash: string): Promise<SessionRecord | null> {
    const row = (await this.db.run(query<SessionRow>(Q.find, { idHash }))).rows[0];
    return row ? toRecord(row) : null;
  }

  async touch(idHash: string, at: string, notBefore: string): Promise<void> {
    await this.db.run(query(Q.touch, { idHash, at, notBefore }));
  }

  async delete(idHash: string): Promise<boolean> {
    return (await this.db.run(query(Q.delete, { idHash }))).count > 0;
  }

  async purgeExpired(now: string, idleBefore: string): Promise<number> {
    const sessions = (await this.db.run(query(Q.purgeSessions, { now, idleBefore }))).count;
    const codes = (await this.db.run(query(Q.purgeCodes, { now }))).count;
    return sessions + codes;
  }

  async createSignInCode(c: SignInCode): Promise<void> {
    await this.db.run(query(Q.createCode, { hash: c.hash, createdAt: c.createdAt, expiresAt: c.expiresAt }));
  }

  async consumeSignInCode(hash: string, now: string): Promise<boolean> {
    const row = (await this.db.run(query<{ expires_at: string }>(Q.consumeCode, { hash }))).rows[0];
    return row !== undefined && Date.parse(now) < Date.parse(row.expires_at);
  }
}

function toRecord(r: SessionRow): SessionRecord {
  return { idHash: r.id_hash, actor: r.actor, role: r.role as AdminRole, credentialId: r.credential_id, csrfToken: r.csrf_token, createdAt: r.created_at, lastSeenAt: r.last_seen_at, expiresAt: r.expires_at };
}

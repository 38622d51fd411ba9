/** Named admin credentials (hashed like client keys) and the audit log of admin actions. */
export type AdminRole = 'admin' | 'viewer';

export interface AdminRecord {
  id: string;
  name: string;
  role: AdminRole;
  /** SHA-256 of the secret (domain/keys.ts hashKey); never shown. */
  hash: string;
  prefix: string;
  createdAt: string;
  revokedAt: string | null;
}

/** One admin action. `before`/`after` are public views (never a secret or hash). */
export interface AuditEntry {
  id: string;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  before: unknown;
  after: unknown;
  clientIp: string | null;
}

export interface AuditFilter {
  actor?: string;
  action?: string;
  target?: string;
  /** Inclusive ISO-8601 bounds on `at`. */
  from?: string;
  to?: string;
  limit: number;
  /** Entries strictly older than this (at, id) position: the `next_cursor` of the previous page. */
  before?: { at: string; id: string };
}

export interface AdminStore {
  create(record: AdminRecord): Promise<AdminRecord>;
  list(): Promise<AdminRecord[]>;
  findActiveByHash(hash: string): Promise<AdminRecord | null>;
  /** Sets revoked_at once; returns the record (already revoked ones unchanged) or null when unknown. */
  revoke(id: string, at: string): Promise<AdminRecord | null>;
  appendAudit(entry: AuditEntry): Promise<void>;
  /** Newest first. */
  listAudit(filter: AuditFilter): Promise<AuditEntry[]>;
}

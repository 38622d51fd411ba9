/** In-memory AdminStore: the twin the contract suite and unit tests use. */
import type { AdminRecord, AdminStore, AuditEntry, AuditFilter } from '../admin-store.js';

export class MemoryAdminStore implements AdminStore {
  private readonly admins = new Map<string, AdminRecord>();
  private readonly audit: AuditEntry[] = [];

  create(record: AdminRecord): Promise<AdminRecord> {
    // The SQL tables' PRIMARY KEY and UNIQUE (hash), as the contract suite checks.
    if (this.admins.has(record.id) || [...this.admins.values()].some((a) => a.hash === record.hash)) return Promise.reject(new Error('admin credential already exists'));
    this.admins.set(record.id, { ...record });
    return Promise.resolve({ ...record });
  }

  list(): Promise<AdminRecord[]> {
    return Promise.resolve([...this.admins.values()].sort((a, b) => cmp(a.createdAt, b.createdAt) || cmp(a.id, b.id)).map((a) => ({ ...a })));
  }

  findActiveByHash(hash: string): Promise<AdminRecord | null> {
    const found = [...this.admins.values()].find((a) => a.hash === hash && a.revokedAt === null);
    return Promise.resolve(found ? { ...found } : null);
  }

  revoke(id: string, at: string): Promise<AdminRecord | null> {
    const a = this.admins.get(id);
    if (!a) return Promise.resolve(null);
    if (a.revokedAt === null) a.revokedAt = at;
    return Promise.resolve({ ...a });
  }

  appendAudit(entry: AuditEntry): Promise<void> {
    this.audit.push(structuredClone(entry));
    return Promise.resolve();
  }

  listAudit(f: AuditFilter): Promise<AuditEntry[]> {
    const t = (iso: string) => Date.parse(iso);
    const rows = this.audit
      .filter((e) => (f.actor === undefined || e.actor === f.actor) && (f.action === undefined || e.action === f.action) && (f.target === undefined || e.target === f.target))
      .filter((e) => (f.from === undefined || t(e.at) >= t(f.from)) && (f.to === undefined || t(e.at) <= t(f.to)))
      .filter((e) => f.before === undefined || t(e.at) < t(f.before.at) || (t(e.at) === t(f.before.at) && e.id < f.before.id))
      .sort((a, b) => t(b.at) - t(a.at) || cmp(b.id, a.id));
    return Promise.resolve(rows.slice(0, f.limit).map((e) => structuredClone(e)));
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

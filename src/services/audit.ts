/**
 * The audit log of admin actions, shared by the admin API and the CLI. Each action is stored and
 * logged (`admin action`) with who did it; `before`/`after` are the public views the API answers
 * with, which never hold a secret or a hash.
 */
import { randomBase62 } from '../domain/keys.js';
import type { AdminStore, AuditEntry } from '../store/admin-store.js';

/** Who acts: `bootstrap` (ADMIN_TOKEN), `admin:<id>` (a named credential) or `cli:<os user>`. */
export interface Actor {
  actor: string;
  /** Null for the CLI. */
  clientIp: string | null;
}

export interface AuditLog {
  info(fields: object, message: string): void;
}

/** Where an action is recorded: the store, the log and the actor. */
export interface AuditContext extends Actor {
  admins: AdminStore;
  log: AuditLog;
}

export interface AdminAction {
  action: string;
  target: string | null;
  before: unknown;
  after: unknown;
}

let lastMs = 0;
let seq = 0;
/**
 * Ids sort in the order this process recorded its entries, even within one millisecond, so
 * `(at, id)` pages newest first without ties; entries of other processes in the same millisecond
 * interleave arbitrarily.
 */
function entryId(now: Date): string {
  const ms = now.getTime();
  seq = ms === lastMs ? seq + 1 : 0;
  lastMs = ms;
  return `aud_${ms.toString(36).padStart(9, '0')}${seq.toString(36).padStart(4, '0')}${randomBase62(6)}`;
}

/**
 * Records one action right after the change it describes is stored: the stores commit each change
 * on its own, so the entry cannot share its transaction (see README, Audit log).
 */
export async function recordAdminAction(ctx: AuditContext, a: AdminAction, now: Date): Promise<AuditEntry> {
  const entry: AuditEntry = {
    id: entryId(now),
    at: now.toISOString(),
    actor: ctx.actor,
    action: a.action,
    target: a.target,
    before: a.before ?? null,
    after: a.after ?? null,
    clientIp: ctx.clientIp,
  };
  await ctx.admins.appendAudit(entry);
  ctx.log.info({ audit: auditView(entry) }, 'admin action');
  return entry;
}

export function auditView(e: AuditEntry) {
  return { id: e.id, at: e.at, actor: e.actor, action: e.action, target: e.target, before: e.before, after: e.after, client_ip: e.clientIp };
}

/** Opaque page cursor: the (at, id) of the last entry of a page. */
export function encodeCursor(e: AuditEntry): string {
  return Buffer.from(JSON.stringify([e.at, e.id]), 'utf8').toString('base64url');
}

export function decodeCursor(raw: string): { at: string; id: string } | null {
  try {
    const v: unknown = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string' && !Number.isNaN(Date.parse(v[0]))) return { at: v[0], id: v[1] };
  } catch {
    // fall through: a malformed cursor is the caller's 400
  }
  return null;
}

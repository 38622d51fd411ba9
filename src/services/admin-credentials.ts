/**
 * Named admin credentials, shared by the admin API and the CLI. Secrets are `fgw_ad_` + 32 base62
 * characters, stored as SHA-256 like client keys (domain/keys.ts) and shown once.
 */
import { Type, type Static } from '@sinclair/typebox';
import { displayPrefix, hashKey, randomBase62 } from '../domain/keys.js';
import type { AdminRecord, AdminRole } from '../store/admin-store.js';
import { recordAdminAction, type AuditContext } from './audit.js';
import { checkInput } from './input-check.js';

export const ADMIN_SECRET_PREFIX = 'fgw_ad_';
export const ROLES: readonly AdminRole[] = ['admin', 'viewer'];

export const CreateAdminBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    role: Type.Union([Type.Literal('admin'), Type.Literal('viewer')], { description: 'admin: everything; viewer: GET /admin/usage, /admin/keys, /admin/teams, /admin/audit only' }),
  },
  { additionalProperties: false },
);
export type CreateAdminInput = Static<typeof CreateAdminBody>;

export function adminView(a: AdminRecord) {
  return { id: a.id, name: a.name, role: a.role, prefix: a.prefix, created_at: a.createdAt, revoked_at: a.revokedAt };
}

export function isRole(v: string): v is AdminRole {
  return (ROLES as readonly string[]).includes(v);
}

export async function createAdmin(ctx: AuditContext, input: CreateAdminInput, now: Date): Promise<{ record: AdminRecord; secret: string }> {
  // The API's schema checks this too; the CLI reaches here directly.
  checkInput(CreateAdminBody, input);
  const secret = ADMIN_SECRET_PREFIX + randomBase62(32);
  const record = await ctx.admins.create({ id: `adm_${randomBase62(16)}`, name: input.name, role: input.role, hash: hashKey(secret), prefix: displayPrefix(secret), createdAt: now.toISOString(), revokedAt: null });
  await recordAdminAction(ctx, { action: 'admin.create', target: record.id, before: null, after: adminView(record) }, now);
  return { record, secret };
}

/** Null when no such credential. Revoking twice records nothing the second time. */
export async function revokeAdmin(ctx: AuditContext, id: string, now: Date): Promise<AdminRecord | null> {
  const before = (await ctx.admins.list()).find((a) => a.id === id);
  if (!before) return null;
  const after = await ctx.admins.revoke(id, now.toISOString());
  if (after && before.revokedAt === null) await recordAdminAction(ctx, { action: 'admin.revoke', target: id, before: adminView(before), after: adminView(after) }, now);
  return after;
}

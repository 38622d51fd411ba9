/**
 * Console sign-in (README, Console sign-in): a signed-in browser holds a random session id in an
 * HttpOnly cookie; the database holds only its SHA-256, so every instance knows the session and a
 * copy of the table signs nobody in. Each session has an absolute lifetime (fixed at sign-in) and
 * an idle expiry counted from its last use. The last use is written at most once a minute, so a
 * console polling every few seconds does not write on every request; the idle expiry is therefore
 * exact to within that minute (CONSOLE_SESSION_IDLE_MS is at least a minute for this reason).
 *
 * One-time sign-in codes (`fgw_os_…`, for `npm run demo` and the CLI) work once, within 15 minutes,
 * and sign in as `bootstrap` with the admin role; they too are stored hashed.
 */
import { createHmac } from 'node:crypto';
import { hashKey, randomBase62 } from '../domain/keys.js';
import type { AdminRole } from '../store/admin-store.js';
import type { SessionRecord, SessionStore } from '../store/session-store.js';

export const SESSION_COOKIE = 'fgw_console';
export const SIGN_IN_CODE_PREFIX = 'fgw_os_';
/** 43 base62 characters: about 256 bits, far beyond guessing at any rate. */
const SESSION_ID_CHARS = 43;
export const SESSION_ID = /^[0-9A-Za-z]{43}$/;
const TOUCH_EVERY_MS = 60_000;
export const SIGN_IN_CODE_TTL_MS = 15 * 60_000;

export interface SessionLimits {
  maxMs: number;
  idleMs: number;
}

/** Who a credential signs in as; `credentialId` is what revoking ends (SessionRecord.credentialId). */
export interface SignInPrincipal {
  actor: string;
  role: AdminRole;
  credentialId: string;
}

/** The JSON the session API answers with (no session id: that lives only in the cookie). */
export interface SessionView {
  actor: string;
  role: AdminRole;
  csrf_token: string;
  idle_expires_at: string;
  expires_at: string;
}

/**
 * The credential id of ADMIN_TOKEN sessions: a MAC of the token under the gateway's token key, so
 * changing ADMIN_TOKEN ends them on every instance, and the stored value gives no way to test
 * guesses of the token (a plain hash of a short token could be brute-forced from a database copy).
 */
export function bootstrapCredentialId(macKey: Buffer, adminToken: string): string {
  return `bootstrap:${createHmac('sha256', macKey).update(`console-session:${adminToken}`, 'utf8').digest('hex').slice(0, 32)}`;
}

export async function signIn(sessions: SessionStore, p: SignInPrincipal, limits: SessionLimits, now: Date): Promise<{ sessionId: string; session: SessionRecord }> {
  // Sessions only grow by signing in, so purging here bounds the table.
  await sessions.purgeExpired(now.toISOString(), new Date(now.getTime() - limits.idleMs).toISOString());
  const sessionId = randomBase62(SESSION_ID_CHARS);
  const at = now.toISOString();
  const session: SessionRecord = {
    idHash: hashKey(sessionId),
    actor: p.actor,
    role: p.role,
    credentialId: p.credentialId,
    csrfToken: randomBase62(32),
    createdAt: at,
    lastSeenAt: at,
    expiresAt: new Date(now.getTime() + limits.maxMs).toISOString(),
  };
  await sessions.create(session);
  return { sessionId, session };
}

/**
 * The live session for a cookie value, its last use moved to `now` (at most once a minute), or
 * null when unknown, expired (absolute or idle), revoked, or its bootstrap credential changed.
 */
export async function resumeSession(sessions: SessionStore, sessionId: string, limits: SessionLimits, now: Date, bootstrapId: string | undefined): Promise<SessionRecord | null> {
  if (!SESSION_ID.test(sessionId)) return null;
  const idHash = hashKey(sessionId);
  const s = await sessions.find(idHash);
  if (!s) return null;
  const t = now.getTime();
  const stale = s.credentialId.startsWith('bootstrap:') && s.credentialId !== bootstrapId;
  if (stale || t >= Date.parse(s.expiresAt) || t >= idleDeadline(s, limits)) {
    await sessions.delete(idHash);
    return null;
  }
  if (t - Date.parse(s.lastSeenAt) >= TOUCH_EVERY_MS) {
    const notBefore = new Date(t - TOUCH_EVERY_MS).toISOString();
    await sessions.touch(idHash, now.toISOString(), notBefore);
    return { ...s, lastSeenAt: now.toISOString() };
  }
  return s;
}

export async function signOut(sessions: SessionStore, sessionId: string): Promise<boolean> {
  return SESSION_ID.test(sessionId) ? sessions.delete(hashKey(sessionId)) : false;
}

function idleDeadline(s: SessionRecord, limits: SessionLimits): number {
  return Date.parse(s.lastSeenAt) + limits.idleMs;
}

export function sessionView(s: SessionRecord, limits: SessionLimits): SessionView {
  const idle = Math.min(idleDeadline(s, limits), Date.parse(s.expiresAt));
  return { actor: s.actor, role: s.role, csrf_token: s.csrfToken, idle_expires_at: new Date(idle).toISOString(), expires_at: s.expiresAt };
}

/**
 * A one-time sign-in code for the console, shown once by whoever calls this (`npm run demo`, the
 * CLI). The caller passes the stores it already has open; `now` is the issuing time.
 */
export async function mintOneTimeSignIn(stores: { sessions: SessionStore }, now: Date): Promise<{ code: string; expiresAt: string }> {
  const code = SIGN_IN_CODE_PREFIX + randomBase62(32);
  const expiresAt = new Date(now.getTime() + SIGN_IN_CODE_TTL_MS).toISOString();
  await stores.sessions.createSignInCode({ hash: hashKey(code), createdAt: now.toISOString(), expiresAt });
  return { code, expiresAt };
}

/** True once per minted code, before its expiry. */
export async function redeemSignInCode(sessions: SessionStore, code: string, now: Date): Promise<boolean> {
  return sessions.consumeSignInCode(hashKey(code), now.toISOString());
}

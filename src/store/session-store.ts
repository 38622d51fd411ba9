/**
 * Console sign-in sessions and one-time sign-in codes (services/console-sessions.ts). Only the
 * SHA-256 of a session id or a code is stored, so a copy of the database signs nobody in.
 */
import type { AdminRole } from './admin-store.js';

export interface SessionRecord {
  /** SHA-256 (hex) of the session id the cookie carries. */
  idHash: string;
  /** Audit actor: `bootstrap` or `admin:<credential id>`. */
  actor: string;
  role: AdminRole;
  /**
   * What the session was signed in with: a named credential's id (`adm_…`), whose revocation ends
   * the session at once, or `bootstrap:<fingerprint>` for ADMIN_TOKEN and one-time codes.
   */
  credentialId: string;
  /**
   * Stored as is, not hashed: GET /console/api/session hands it back to a reloaded page, and it is
   * worth nothing without the session id (double submit: the cookie and the header must both match).
   */
  csrfToken: string;
  createdAt: string;
  /** Written at most once a minute per session (services/console-sessions.ts TOUCH_EVERY_MS). */
  lastSeenAt: string;
  /** The absolute end, fixed at sign-in. */
  expiresAt: string;
}

export interface SignInCode {
  /** SHA-256 (hex) of the `fgw_os_…` code. */
  hash: string;
  createdAt: string;
  expiresAt: string;
}

export interface SessionStore {
  create(session: SessionRecord): Promise<void>;
  /**
   * The session with this id hash, or null when unknown or when its named credential was revoked
   * (checked in the same read, so a revocation on any instance ends the session at once).
   */
  find(idHash: string): Promise<SessionRecord | null>;
  /** Sets last_seen_at to `at` when it is at or before `notBefore` (the throttle: another instance may have just written it). */
  touch(idHash: string, at: string, notBefore: string): Promise<void>;
  /** True when a session was deleted. */
  delete(idHash: string): Promise<boolean>;
  /** Deletes sessions past `now` and those last seen at or before `idleBefore`, and expired codes; returns how many rows went. */
  purgeExpired(now: string, idleBefore: string): Promise<number>;
  createSignInCode(code: SignInCode): Promise<void>;
  /** Deletes the code and returns true when it existed and `now` is before its expiry: it works once. */
  consumeSignInCode(hash: string, now: string): Promise<boolean>;
}

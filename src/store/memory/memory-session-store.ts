/** In-memory SessionStore: the twin the contract suite and unit tests use. */
import type { SessionRecord, SessionStore, SignInCode } from '../session-store.js';

export class MemorySessionStore implements SessionStore {
  private readonly sessions = new Map<string, SessionRecord>();
  private readonly codes = new Map<string, SignInCode>();

  /** `isRevoked` answers for a named credential id, as the SQL store's join on admin_credentials does. */
  constructor(private readonly isRevoked: (credentialId: string) => Promise<boolean>) {}

  create(session: SessionRecord): Promise<void> {
    if (this.sessions.has(session.idHash)) return Promise.reject(new Error('session already exists'));
    this.sessions.set(session.idHash, { ...session });
    return Promise.resolve();
  }

  async find(idHash: string): Promise<SessionRecord | null> {
    const s = this.sessions.get(idHash);
    if (!s || (await this.isRevoked(s.credentialId))) return null;
    return { ...s };
  }

  touch(idHash: string, at: string, notBefore: string): Promise<void> {
    const s = this.sessions.get(idHash);
    if (s && t(s.lastSeenAt) <= t(notBefore)) s.lastSeenAt = at;
    return Promise.resolve();
  }

  delete(idHash: string): Promise<boolean> {
    return Promise.resolve(this.sessions.delete(idHash));
  }

  purgeExpired(now: string, idleBefore: string): Promise<number> {
    let n = 0;
    for (const [k, s] of this.sessions) {
      if (t(s.expiresAt) <= t(now) || t(s.lastSeenAt) <= t(idleBefore)) n += Number(this.sessions.delete(k));
    }
    for (const [k, c] of this.codes) if (t(c.expiresAt) <= t(now)) n += Number(this.codes.delete(k));
    return Promise.resolve(n);
  }

  createSignInCode(code: SignInCode): Promise<void> {
    if (this.codes.has(code.hash)) return Promise.reject(new Error('sign-in code already exists'));
    this.codes.set(code.hash, { ...code });
    return Promise.resolve();
  }

  consumeSignInCode(hash: string, now: string): Promise<boolean> {
    const c = this.codes.get(hash);
    if (!c) return Promise.resolve(false);
    this.codes.delete(hash);
    return Promise.resolve(t(now) < t(c.expiresAt));
  }
}

const t = (iso: string) => Date.parse(iso);

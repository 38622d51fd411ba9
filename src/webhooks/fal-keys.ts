/**
 * fal's webhook public keys (docs/fal-protocol.md §2.4): fetched from FAL_WEBHOOK_JWKS_URL, kept at
 * most 24 h (less when the answer's max-age says so), and fetched again when a signature matches
 * none of them, since fal may have rotated its key.
 *
 * Every fetch, whatever asked for it (expiry or a signature that matched nothing), is spaced by
 * REFETCH_GAP_MS from the previous attempt, so a stream of forged deliveries cannot make the
 * gateway hammer fal's key endpoint, failing or not. When a fetch fails the last keys keep
 * verifying (stale-if-error, logged) until they are STALE_IF_ERROR_MS old: an outage of fal's key
 * endpoint must not refuse fal's own genuine deliveries while their key has not changed.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';

const MAX_CACHE_MS = 24 * 60 * 60_000;
const REFETCH_GAP_MS = 30_000;
const FETCH_TIMEOUT_MS = 5_000;
/** How old (since their last successful fetch) the keys may get while fal's key endpoint fails. */
export const STALE_IF_ERROR_MS = 7 * 24 * 60 * 60_000;

/** Where a failed key fetch is reported (the app's logger). */
export interface KeyLog {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export class FalKeys {
  private keys: KeyObject[] = [];
  /** Last successful fetch, last attempt (successful or not), end of the last answer's max-age. */
  private fetchedOkAt = Number.NEGATIVE_INFINITY;
  private triedAt = Number.NEGATIVE_INFINITY;
  private expiresAt = Number.NEGATIVE_INFINITY;
  private loading: Promise<KeyObject[]> | undefined;

  constructor(
    private readonly url: string,
    private readonly now: () => number,
    private readonly log: KeyLog,
  ) {}

  /**
   * The keys to verify with: the cached ones while within their max-age, else fetched (at most once
   * per REFETCH_GAP_MS), else the last ones up to STALE_IF_ERROR_MS. Throws when there are none.
   */
  async current(): Promise<KeyObject[]> {
    if (this.keys.length > 0 && this.now() < this.expiresAt) return this.keys;
    return (await this.load()) ?? this.usable();
  }

  /**
   * Fetches again after a signature matched no cached key; null when the last attempt is too recent.
   * A failed fetch answers the keys already held (which matched nothing), so the caller refuses.
   */
  async refreshed(): Promise<KeyObject[] | null> {
    return this.load();
  }

  /** The running fetch, a new one, or null inside the gap. */
  private load(): Promise<KeyObject[]> | null {
    if (this.loading) return this.loading;
    if (this.now() - this.triedAt < REFETCH_GAP_MS) return null;
    this.loading = this.fetchKeys()
      .catch((err: unknown) => this.staleAfter(err))
      .finally(() => (this.loading = undefined));
    return this.loading;
  }

  /** The keys held if they are not too old to serve past their max-age. */
  private usable(): KeyObject[] {
    if (this.keys.length > 0 && this.now() - this.fetchedOkAt <= STALE_IF_ERROR_MS) return this.keys;
    throw new Error("fal's webhook keys are unavailable");
  }

  private staleAfter(err: unknown): KeyObject[] {
    const error = err instanceof Error ? err.message : String(err);
    try {
      const keys = this.usable();
      this.log.warn({ error, keysFetchedAt: new Date(this.fetchedOkAt).toISOString() }, "fal's webhook key endpoint failed; verifying with the last keys it published");
      return keys;
    } catch (unavailable) {
      this.log.error({ error, keysFetchedAt: Number.isFinite(this.fetchedOkAt) ? new Date(this.fetchedOkAt).toISOString() : null }, "fal's webhook key endpoint failed and no usable keys are held; fal's deliveries are refused with 503");
      throw unavailable;
    }
  }

  private async fetchKeys(): Promise<KeyObject[]> {
    const at = this.now();
    this.triedAt = at;
    const res = await fetch(this.url, { headers: { accept: 'application/json' }, redirect: 'error', signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    if (!res.ok) {
      await res.body?.cancel();
      throw new Error(`fal's webhook JWKS answered ${res.status}`);
    }
    const body = (await res.json()) as { keys?: unknown };
    const keys = (Array.isArray(body.keys) ? body.keys : []).flatMap((jwk: unknown) => {
      const k = jwk as { kty?: unknown; crv?: unknown; x?: unknown };
      if (k.kty !== 'OKP' || k.crv !== 'Ed25519' || typeof k.x !== 'string') return [];
      try {
        return [createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: k.x }, format: 'jwk' })];
      } catch {
        return [];
      }
    });
    if (keys.length === 0) throw new Error("fal's webhook JWKS holds no Ed25519 key");
    const maxAge = /max-age=(\d+)/.exec(res.headers.get('cache-control') ?? '')?.[1];
    const ttl = maxAge === undefined ? MAX_CACHE_MS : Math.min(MAX_CACHE_MS, Number(maxAge) * 1000);
    this.keys = keys;
    this.fetchedOkAt = at;
    this.expiresAt = at + ttl;
    return keys;
  }
}

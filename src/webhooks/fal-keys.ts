/**
 * fal's webhook public keys (docs/fal-protocol.md §2.4): fetched from FAL_WEBHOOK_JWKS_URL, kept at
 * most 24 h (less when the answer's max-age says so), and fetched again when a signature matches
 * none of them, since fal may have rotated its key. That refetch is spaced by REFETCH_GAP_MS so a
 * stream of forged deliveries cannot make the gateway hammer fal's key endpoint.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';

const MAX_CACHE_MS = 24 * 60 * 60_000;
const REFETCH_GAP_MS = 30_000;
const FETCH_TIMEOUT_MS = 5_000;

export class FalKeys {
  private keys: KeyObject[] = [];
  private fetchedAt = Number.NEGATIVE_INFINITY;
  private expiresAt = Number.NEGATIVE_INFINITY;
  private loading: Promise<KeyObject[]> | undefined;

  constructor(
    private readonly url: string,
    private readonly now: () => number,
  ) {}

  /** The cached keys, fetched first when there are none or they are older than their max-age. */
  async current(): Promise<KeyObject[]> {
    if (this.keys.length > 0 && this.now() < this.expiresAt) return this.keys;
    return this.load();
  }

  /** Fetches again after a signature matched no cached key; null when the last fetch is too recent. */
  async refreshed(): Promise<KeyObject[] | null> {
    if (this.now() - this.fetchedAt < REFETCH_GAP_MS) return null;
    return this.load();
  }

  private load(): Promise<KeyObject[]> {
    this.loading ??= this.fetchKeys().finally(() => (this.loading = undefined));
    return this.loading;
  }

  private async fetchKeys(): Promise<KeyObject[]> {
    this.fetchedAt = this.now();
    const res = await fetch(this.url, { headers: { accept: 'application/json' }, redirect: 'error', signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    if (!res.ok) throw new Error(`fal's webhook JWKS answered ${res.status}`);
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
    this.expiresAt = this.fetchedAt + ttl;
    return keys;
  }
}

/**
 * Storage contract for client keys. Adapters: memory (tests), SQLite (embedded default), and
 * Postgres (several instances). One contract suite (test/store/key-store.contract.test.ts) runs against
 * every adapter. Only the SHA-256 of a secret is ever stored.
 */
import type { KeyPolicy } from '../domain/policy.js';

export type KeyKind = 'secret' | 'publishable';

export interface KeyRecord {
  id: string;
  name: string;
  team: string | null;
  /** `secret` for servers; `publishable` for browsers (only from `allowedOrigins`). */
  kind: KeyKind;
  /** The key's type prefix (`fgw_sk_`, …) plus its first characters: enough to recognise it, useless to use it. */
  prefix: string;
  /** Lifetime budget in integer micro-USD; null = none. */
  budgetMicroUsd: number | null;
  /** Budget per UTC day in integer micro-USD; null = none. */
  budgetDailyMicroUsd: number | null;
  /** Budget per UTC month in integer micro-USD; null = none. */
  budgetMonthlyMicroUsd: number | null;
  rpm: number | null;
  maxConcurrency: number | null;
  allowedWebhookUrls: string[];
  /** Browser origins (`https://app.example`) the key may be used from; empty = none. */
  allowedOrigins: string[];
  /** What the key may ask fal for (domain/policy.ts); null = the gateway's defaults only. */
  policy: KeyPolicy | null;
  createdAt: string;
  revokedAt: string | null;
}

export interface NewKey extends Omit<KeyRecord, 'revokedAt'> {
  hash: string;
}

export type KeyPatch = Partial<
  Pick<
    KeyRecord,
    'name' | 'team' | 'budgetMicroUsd' | 'budgetDailyMicroUsd' | 'budgetMonthlyMicroUsd' | 'rpm' | 'maxConcurrency' | 'allowedWebhookUrls' | 'allowedOrigins' | 'policy'
  >
>;

export interface KeyStore {
  create(key: NewKey): Promise<KeyRecord>;
  /** The unrevoked key with this hash, or null. On the hot path: one indexed lookup. */
  findActiveByHash(hash: string): Promise<KeyRecord | null>;
  get(id: string): Promise<KeyRecord | null>;
  list(): Promise<KeyRecord[]>;
  update(id: string, patch: KeyPatch): Promise<KeyRecord | null>;
  /** Marks the key revoked (idempotent: the first revocation time is kept). */
  revoke(id: string, at: string): Promise<KeyRecord | null>;
}

/** A stored `kind` column as a KeyKind; anything else is a corrupt row, never guessed at. */
export function keyKind(stored: string): KeyKind {
  if (stored === 'secret' || stored === 'publishable') return stored;
  throw new Error(`unknown key kind ${JSON.stringify(stored)} in the keys table`);
}

/**
 * Storage contract for client keys, on SQLite (embedded default) or Postgres (several
 * instances). One contract suite (test/store/key-store.contract.test.ts) runs against both. Only the SHA-256 of a secret is ever stored.
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
  /** Who the key is for (a person or service, free text); null = not recorded. */
  owner: string | null;
  /** A small JSON object the operator attaches (bounded in services/key-admin.ts); null = none. */
  metadata: Record<string, unknown> | null;
  /** When the key stops working (ISO-8601); null = never. */
  expiresAt: string | null;
  /** After a rotation with a grace period: until when the replaced secret still works; else null. */
  previousSecretUntil: string | null;
  createdAt: string;
  revokedAt: string | null;
}

/** A key to store; lifecycle fields left out are null. */
export interface NewKey extends Omit<KeyRecord, 'revokedAt' | 'previousSecretUntil' | 'owner' | 'metadata' | 'expiresAt'>, Partial<Pick<KeyRecord, 'owner' | 'metadata' | 'expiresAt'>> {
  hash: string;
}

/** A rotation: the new secret's hash and prefix; the old secret works until `graceUntil` (null = not at all). */
export interface KeyRotation {
  hash: string;
  prefix: string;
  graceUntil: string | null;
}

/** What a hard delete did: refused while the key has ledger rows (its history). */
export type HardDeleteResult = 'deleted' | 'has_ledger_rows' | 'not_found';

export type KeyPatch = Partial<
  Pick<
    KeyRecord,
    'name' | 'team' | 'budgetMicroUsd' | 'budgetDailyMicroUsd' | 'budgetMonthlyMicroUsd' | 'rpm' | 'maxConcurrency' | 'allowedWebhookUrls' | 'allowedOrigins' | 'policy' | 'owner' | 'metadata' | 'expiresAt'
  >
>;

export interface KeyStore {
  create(key: NewKey): Promise<KeyRecord>;
  /**
   * The unrevoked key whose secret hashes to `hash`, or whose replaced secret does and is still in
   * its grace period at `at` (ISO-8601); else null. On the hot path: indexed lookups. Expiry is the
   * caller's check (the record carries `expiresAt`), so an expired key answers with a clear 401.
   */
  findActiveByHash(hash: string, at: string): Promise<KeyRecord | null>;
  get(id: string): Promise<KeyRecord | null>;
  list(): Promise<KeyRecord[]>;
  update(id: string, patch: KeyPatch): Promise<KeyRecord | null>;
  /** Marks the key revoked (idempotent: the first revocation time is kept). */
  revoke(id: string, at: string): Promise<KeyRecord | null>;
  /** Replaces the secret of an unrevoked key (id, history, budgets and counters kept); null if none. */
  rotate(id: string, rotation: KeyRotation): Promise<KeyRecord | null>;
  /** Deletes the key row, atomically refused while any ledger row names the key. */
  hardDelete(id: string): Promise<HardDeleteResult>;
}

/** A stored `kind` column as a KeyKind; anything else is a corrupt row, never guessed at. */
export function keyKind(stored: string): KeyKind {
  if (stored === 'secret' || stored === 'publishable') return stored;
  throw new Error(`unknown key kind ${JSON.stringify(stored)} in the keys table`);
}

/** In-memory KeyStore: the twin the contract suite and unit tests use. */
import type { HardDeleteResult, KeyPatch, KeyRecord, KeyRotation, KeyStore, NewKey } from '../key-store.js';

type Row = KeyRecord & { hash: string; previousHash: string | null };

export class MemoryKeyStore implements KeyStore {
  private readonly byId = new Map<string, Row>();

  /** `hasLedgerRows`: whether the ledger twin holds rows for a key (hard delete is refused then). */
  constructor(private readonly hasLedgerRows: (keyId: string) => boolean = () => false) {}

  create(key: NewKey): Promise<KeyRecord> {
    for (const k of this.byId.values()) {
      if (k.hash === key.hash || k.id === key.id) return Promise.reject(new Error('duplicate key'));
    }
    const row: Row = { owner: null, metadata: null, expiresAt: null, ...copyFields(key), revokedAt: null, previousSecretUntil: null, previousHash: null };
    this.byId.set(key.id, row);
    return Promise.resolve(publicView(row));
  }

  findActiveByHash(hash: string, at: string): Promise<KeyRecord | null> {
    for (const k of this.byId.values()) {
      if (k.revokedAt !== null) continue;
      const inGrace = k.previousHash === hash && k.previousSecretUntil !== null && k.previousSecretUntil > at;
      if (k.hash === hash || inGrace) return Promise.resolve(publicView(k));
    }
    return Promise.resolve(null);
  }

  get(id: string): Promise<KeyRecord | null> {
    const k = this.byId.get(id);
    return Promise.resolve(k ? publicView(k) : null);
  }

  list(): Promise<KeyRecord[]> {
    const rows = [...this.byId.values()].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
    return Promise.resolve(rows.map(publicView));
  }

  update(id: string, patch: KeyPatch): Promise<KeyRecord | null> {
    const k = this.byId.get(id);
    if (!k) return Promise.resolve(null);
    Object.assign(k, copyFields(stripUndefined(patch)));
    return Promise.resolve(publicView(k));
  }

  revoke(id: string, at: string): Promise<KeyRecord | null> {
    const k = this.byId.get(id);
    if (!k) return Promise.resolve(null);
    k.revokedAt ??= at;
    return Promise.resolve(publicView(k));
  }

  rotate(id: string, r: KeyRotation): Promise<KeyRecord | null> {
    const k = this.byId.get(id);
    if (!k || k.revokedAt !== null) return Promise.resolve(null);
    k.previousHash = r.graceUntil === null ? null : k.hash;
    k.previousSecretUntil = r.graceUntil;
    k.hash = r.hash;
    k.prefix = r.prefix;
    return Promise.resolve(publicView(k));
  }

  hardDelete(id: string): Promise<HardDeleteResult> {
    if (!this.byId.has(id)) return Promise.resolve('not_found');
    if (this.hasLedgerRows(id)) return Promise.resolve('has_ledger_rows');
    this.byId.delete(id);
    return Promise.resolve('deleted');
  }
}

function publicView(row: Row): KeyRecord {
  const { hash: _hash, previousHash: _previous, ...rest } = row;
  return copyFields(rest);
}

/** Copies the array and object fields, so no caller shares them with the store (as with a database). */
function copyFields<T extends Partial<Pick<KeyRecord, 'allowedWebhookUrls' | 'allowedOrigins' | 'policy' | 'metadata'>>>(o: T): T {
  const copy = { ...o };
  if (o.allowedWebhookUrls) copy.allowedWebhookUrls = [...o.allowedWebhookUrls];
  if (o.allowedOrigins) copy.allowedOrigins = [...o.allowedOrigins];
  if (o.policy) copy.policy = structuredClone(o.policy);
  if (o.metadata) copy.metadata = structuredClone(o.metadata);
  return copy;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

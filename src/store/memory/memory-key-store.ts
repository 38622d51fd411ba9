/** In-memory KeyStore: the twin the contract suite and unit tests use. */
import type { KeyPatch, KeyRecord, KeyStore, NewKey } from '../key-store.js';

export class MemoryKeyStore implements KeyStore {
  private readonly byId = new Map<string, KeyRecord & { hash: string }>();

  create(key: NewKey): Promise<KeyRecord> {
    for (const k of this.byId.values()) {
      if (k.hash === key.hash || k.id === key.id) return Promise.reject(new Error('duplicate key'));
    }
    const row = { ...copyFields(key), revokedAt: null };
    this.byId.set(key.id, row);
    return Promise.resolve(publicView(row));
  }

  findActiveByHash(hash: string): Promise<KeyRecord | null> {
    for (const k of this.byId.values()) {
      if (k.hash === hash && k.revokedAt === null) return Promise.resolve(publicView(k));
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
}

function publicView(row: KeyRecord & { hash: string }): KeyRecord {
  const { hash: _hash, ...rest } = row;
  return copyFields(rest);
}

/** Copies the array and object fields, so no caller shares them with the store (as with a database). */
function copyFields<T extends Partial<Pick<KeyRecord, 'allowedWebhookUrls' | 'allowedOrigins' | 'policy'>>>(o: T): T {
  const copy = { ...o };
  if (o.allowedWebhookUrls) copy.allowedWebhookUrls = [...o.allowedWebhookUrls];
  if (o.allowedOrigins) copy.allowedOrigins = [...o.allowedOrigins];
  if (o.policy) copy.policy = structuredClone(o.policy);
  return copy;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

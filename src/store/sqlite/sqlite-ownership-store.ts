/** OwnershipStore on the embedded SQLite database. Statements are prepared once. */
import type { OwnershipRecord, OwnershipStore } from '../ownership-store.js';
import { ownerConflict } from '../ownership-store.js';
import type { SqliteDb } from './sqlite-database.js';

export class SqliteOwnershipStore implements OwnershipStore {
  private readonly insert;
  private readonly owner;

  constructor(db: SqliteDb) {
    // DO NOTHING, then read back: the first writer wins even when another process shares the file.
    this.insert = db.prepare(
      `INSERT INTO request_owners (request_id, key_id, created_at) VALUES (@requestId, @keyId, @createdAt)
       ON CONFLICT (request_id) DO NOTHING`,
    );
    this.owner = db.prepare<[string], { key_id: string }>('SELECT key_id FROM request_owners WHERE request_id = ?');
  }

  record(rec: OwnershipRecord): Promise<void> {
    const { changes } = this.insert.run(rec);
    if (changes === 0 && this.owner.get(rec.requestId)?.key_id !== rec.keyId) {
      return Promise.reject(ownerConflict(rec.requestId));
    }
    return Promise.resolve();
  }

  ownerOf(requestId: string): Promise<string | null> {
    return Promise.resolve(this.owner.get(requestId)?.key_id ?? null);
  }
}

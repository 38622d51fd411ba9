/**
 * Who submitted each fal request. One fal key serves every client, so fal would answer any
 * status/result/cancel for any request id; the gateway answers only the key that submitted it
 * (docs/reliability.md B4, API1 BOLA). Records are immutable once written.
 */
export interface OwnershipRecord {
  requestId: string;
  /** A key id, or `<key id>/<token id>` for a request made through a browser token (pipeline/principal.ts). */
  ownerId: string;
  createdAt: string;
}

export interface OwnershipStore {
  /** Records the owner. Idempotent for the same (requestId, ownerId); a different owner is an error. */
  record(rec: OwnershipRecord): Promise<void>;
  /** The owner (ownerId), or null when the request is unknown. */
  ownerOf(requestId: string): Promise<string | null>;
}

/**
 * The error every adapter throws when a request id already belongs to another key. fal request ids
 * are unique, so this signals a bug or a forged id, never a normal outcome: it is not a value.
 * The message names the request only, never either key.
 */
export function ownerConflict(requestId: string): Error {
  return new Error(`request ${requestId} is already owned by another key`);
}

/**
 * Who submitted each fal request. One fal key serves every client, so fal would answer any
 * status/result/cancel for any request id; the gateway answers only the key that submitted it
 * (docs/reliability.md B4, API1 BOLA).
 *
 * There is no write of its own: the owner is the queue submit's ledger row, the key and browser
 * token it was reserved for, found by the fal id its attach wrote (LedgerStore.attachFalRequestId).
 * A row's key and token never change and its fal id is written once (unique across rows), so an
 * owner never changes either. Owners recorded by earlier releases (table `request_owners`) are
 * still answered, and before the ledger.
 */
export interface OwnershipStore {
  /**
   * The owner: a key id, or `<key id>/<token id>` for a request made through a browser token
   * (pipeline/principal.ts ownerIdOf); null when no queue submit has that fal id.
   */
  ownerOf(requestId: string): Promise<string | null>;
}

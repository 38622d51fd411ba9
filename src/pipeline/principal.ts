/**
 * Step 2 of the pipeline: who is calling. A credential is looked up by its hash; unknown, revoked
 * and malformed credentials all get the same 401, so the answer reveals nothing about which keys exist.
 */
import { hashKey, parseAuthorization } from '../domain/keys.js';
import { GatewayError } from '../errors.js';
import type { KeyRecord, KeyStore } from '../store/key-store.js';

export interface Principal {
  keyId: string;
  team: string | null;
  key: KeyRecord;
}

export async function authenticate(keys: KeyStore, authorization: string | undefined): Promise<Principal> {
  const credential = parseAuthorization(authorization);
  if (credential === null) {
    throw new GatewayError('unauthorized', 'Missing credentials: send `Authorization: Key <gateway key>`');
  }
  const key = await keys.findActiveByHash(hashKey(credential));
  if (key === null) throw new GatewayError('unauthorized', 'Invalid or revoked key');
  return { keyId: key.id, team: key.team, key };
}

/**
 * Minting browser tokens (domain/tokens.ts), shared by `POST /v1/tokens` and `fal-gateway tokens
 * mint`: the same checks and the same answer. Only a live secret key mints; the route also refuses
 * a caller that is itself a token.
 */
import type { Static } from '@sinclair/typebox';
import { microToUsdNumber, usdToMicro } from '../domain/pricing.js';
import { TokenBody, isOrigin, mintToken } from '../domain/tokens.js';
import { GatewayError } from '../errors.js';
import type { KeyRecord, KeyStore } from '../store/key-store.js';
import { recordAdminAction, type AuditContext } from './audit.js';
import { checkInput } from './input-check.js';
import { isExpired } from './key-admin.js';

export type TokenInput = Static<typeof TokenBody>;
export const DEFAULT_TOKEN_TTL_S = 900;

export interface MintedToken {
  token: string;
  token_id: string;
  expires_at: string;
  max_usd: number | null;
  max_images: number | null;
  allowed_origins: string[];
  end_user: string | null;
}

/**
 * Mints a token for `key` (the caller has checked it is live: the route by authenticating, the CLI
 * with `liveKey`). Throws `bad_request` for invalid caps, `forbidden` for a publishable key. With
 * `audit` (the CLI), the action is recorded without the token itself.
 */
export async function mintKeyToken(macKey: Buffer, key: KeyRecord, input: TokenInput, now: Date, audit?: AuditContext): Promise<MintedToken> {
  checkInput(TokenBody, input);
  if (key.kind !== 'secret') throw new GatewayError('forbidden', 'Only a secret key can mint tokens');
  const origins = input.allowed_origins ?? [];
  if (!origins.every(isOrigin)) throw new GatewayError('bad_request', 'allowed_origins must be exact origins like https://app.example.com');
  const exp = Math.floor(now.getTime() / 1000) + (input.expires_in ?? DEFAULT_TOKEN_TTL_S);
  const maxMicroUsd = input.max_usd === undefined ? null : usdToMicro(input.max_usd);
  const minted = mintToken(macKey, { keyId: key.id, exp, maxMicroUsd, maxImages: input.max_images ?? null, allowedOrigins: origins, endUser: input.end_user ?? null });
  if (minted === null) throw new GatewayError('bad_request', 'These allowed_origins and end_user make the token too long; list fewer or shorter origins');
  const answer: MintedToken = {
    token: minted.token,
    token_id: minted.id,
    expires_at: new Date(exp * 1000).toISOString(),
    max_usd: maxMicroUsd === null ? null : microToUsdNumber(maxMicroUsd),
    max_images: input.max_images ?? null,
    allowed_origins: origins,
    end_user: input.end_user ?? null,
  };
  if (audit) {
    const { token: _secret, ...claims } = answer;
    await recordAdminAction(audit, { action: 'token.mint', target: key.id, before: null, after: claims }, now);
  }
  return answer;
}

/** A key the CLI may mint for: it exists, is not revoked and has not expired (what authentication checks on the wire). */
export async function liveKey(keys: KeyStore, id: string, now: Date): Promise<KeyRecord> {
  const key = await keys.get(id);
  if (key === null) throw new GatewayError('not_found', `No key with id ${id}`);
  if (key.revokedAt !== null) throw new GatewayError('conflict', `Key ${id} is revoked`);
  if (isExpired(key, now)) throw new GatewayError('conflict', `Key ${id} expired at ${key.expiresAt ?? ''}`);
  return key;
}

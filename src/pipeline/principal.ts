/**
 * Steps 2–3 of the pipeline: who is calling, and from where. A credential is a secret key, a
 * publishable key or a browser token. Unknown, revoked and malformed credentials all get the same
 * 401, so the answer reveals nothing about which keys exist; an IP that keeps failing is refused
 * before any lookup.
 */
import type { FastifyRequest } from 'fastify';
import { hashKey, parseAuthorization } from '../domain/keys.js';
import { TOKEN_PREFIX, verifyToken, type TokenClaims } from '../domain/tokens.js';
import { GatewayError } from '../errors.js';
import { isExpired } from '../services/key-admin.js';
import type { KeyRecord } from '../store/key-store.js';
import type { PipelineContext } from './context.js';

export interface Principal {
  keyId: string;
  team: string | null;
  key: KeyRecord;
  /** Set when the caller used a browser token minted from `key`. */
  token: TokenClaims | null;
  /** The end user a token was minted for, reported in the ledger. */
  endUser: string | null;
}

/**
 * Who owns what this principal submits: the key, or for a browser token `<key>/<token>`, so two
 * tokens of one key (two end users of one app) never see each other's requests.
 */
export function ownerIdOf(p: Principal): string {
  return p.token ? `${p.keyId}/${p.token.id}` : p.keyId;
}

/** A key may reach its own requests and those of tokens minted from it; a token only its own. */
export function mayAccess(p: Principal, owner: string): boolean {
  return owner === ownerIdOf(p) || (p.token === null && owner.startsWith(`${p.keyId}/`));
}

export async function authenticate(ctx: PipelineContext, request: FastifyRequest): Promise<Principal> {
  await ctx.limits.checkAuthFailures(request);
  try {
    const principal = await identify(ctx, request.headers.authorization);
    checkOrigin(principal, callerOrigin(request, ctx.config.publicUrl));
    return principal;
  } catch (err) {
    if (err instanceof GatewayError && err.code === 'unauthorized') await ctx.limits.countAuthFailure(request);
    throw err;
  }
}

async function identify(ctx: PipelineContext, authorization: string | undefined): Promise<Principal> {
  const credential = parseAuthorization(authorization);
  if (credential === null) {
    throw new GatewayError('unauthorized', 'Missing credentials: send `Authorization: Key <gateway key>`');
  }
  if (credential.startsWith(TOKEN_PREFIX)) {
    const check = verifyToken(ctx.tokenMacKey, credential, Math.floor(ctx.now().getTime() / 1000));
    if (!check.ok) throw new GatewayError('unauthorized', check.reason === 'expired' ? 'Token expired' : 'Invalid or revoked key');
    const parent = await ctx.keys.byKeyId(check.claims.keyId);
    // Revoking the parent key kills its tokens at once.
    if (parent === null || parent.revokedAt !== null) throw new GatewayError('unauthorized', 'Invalid or revoked key');
    // Likewise its expiry: a token never outlives the key it was minted from.
    checkExpiry(parent, ctx.now());
    return { keyId: parent.id, team: parent.team, key: parent, token: check.claims, endUser: check.claims.endUser };
  }
  const key = await ctx.keys.activeByHash(hashKey(credential));
  if (key === null) throw new GatewayError('unauthorized', 'Invalid or revoked key');
  checkExpiry(key, ctx.now());
  return { keyId: key.id, team: key.team, key, token: null, endUser: null };
}

/**
 * The origin a call comes from, as the browser tells it: its `Origin` header; else, when the
 * browser marks the call `Sec-Fetch-Site: same-origin` (a header no page can set), the gateway's
 * own origin (PUBLIC_URL's when set, as the browser then knows it). Browsers send no Origin on a
 * same-origin GET (Fetch standard), so without this a page the gateway serves itself (the
 * playground) could submit with a key or token bound to the gateway's origin but never read the
 * status or result of what it paid for. Outside browsers both headers can be forged, as Origin
 * always could (see checkOrigin).
 */
export function callerOrigin(request: FastifyRequest, publicUrl: string | undefined): string | undefined {
  const origin = request.headers.origin;
  if (origin !== undefined) return origin;
  if (request.headers['sec-fetch-site'] !== 'same-origin') return undefined;
  return publicUrl === undefined ? `${request.protocol}://${request.host}` : new URL(publicUrl).origin;
}

/** Only a caller holding the key's secret gets here, so saying it expired reveals nothing new. */
function checkExpiry(key: KeyRecord, now: Date): void {
  if (isExpired(key, now)) throw new GatewayError('unauthorized', `This key expired at ${key.expiresAt ?? ''}`);
}

/**
 * Origin binding. A token's `allowed_origins` and a key's `allowed_origins` restrict browser use;
 * a publishable key is unusable without a listed Origin. (An Origin header can be forged outside
 * browsers: this protects a key embedded in a page from other pages, not from scripts.)
 */
function checkOrigin(p: Principal, origin: string | undefined): void {
  const tokenOrigins = p.token?.allowedOrigins ?? [];
  if (tokenOrigins.length > 0 && (origin === undefined || !tokenOrigins.includes(origin))) {
    throw new GatewayError('forbidden', 'This token may not be used from this origin');
  }
  const keyOrigins = p.key.allowedOrigins;
  if (p.key.kind === 'publishable' && (origin === undefined || !keyOrigins.includes(origin))) {
    throw new GatewayError('forbidden', 'This publishable key may not be used from this origin');
  }
  if (keyOrigins.length > 0 && origin !== undefined && !keyOrigins.includes(origin)) {
    throw new GatewayError('forbidden', 'This key may not be used from this origin');
  }
}

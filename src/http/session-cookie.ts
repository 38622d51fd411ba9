/**
 * The console session cookie and the same-origin checks on cookie-authenticated calls (README,
 * Console sign-in). The cookie is HttpOnly (no script reads it), SameSite=Strict (no other site's
 * page sends it) and Secure when the request came over https (request.protocol honours
 * TRUST_PROXY's X-Forwarded-Proto). A sibling subdomain is the same "site" to SameSite, hence the
 * CSRF token and the Origin / Sec-Fetch-Site checks on every state-changing call.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError } from '../errors.js';
import { SESSION_COOKIE } from '../services/console-sessions.js';

/** The session id in the request's Cookie header, or undefined. */
export function sessionCookie(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie;
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * Secure when this request came over https, or when PUBLIC_URL says the gateway is reached over
 * https (a TLS proxy in front without TRUST_PROXY shows the gateway plain http): then a stray
 * plain-http request to the same host never carries the session.
 */
function attributes(request: FastifyRequest, publicUrl: string | undefined): string {
  const secure = request.protocol === 'https' || (publicUrl !== undefined && publicUrl.startsWith('https:'));
  return `Path=/; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

/** No Max-Age: the browser forgets it when it closes; the server's expiry decides before that. */
export function setSessionCookie(request: FastifyRequest, reply: FastifyReply, sessionId: string, publicUrl: string | undefined): void {
  reply.header('set-cookie', `${SESSION_COOKIE}=${sessionId}; ${attributes(request, publicUrl)}`);
  reply.header('cache-control', 'no-store');
}

/** The Set-Cookie value that makes the browser drop the cookie. */
export function clearedSessionCookie(request: FastifyRequest, publicUrl: string | undefined): string {
  return `${SESSION_COOKIE}=; ${attributes(request, publicUrl)}; Max-Age=0`;
}

/** The 401 for a session cookie that expired or was signed out: it also drops the cookie, so the browser stops sending it. */
export function sessionEnded(request: FastifyRequest, publicUrl: string | undefined): GatewayError {
  return new GatewayError('unauthorized', 'The console session expired or was signed out: sign in again', { 'set-cookie': clearedSessionCookie(request, publicUrl) });
}

export function clearSessionCookie(request: FastifyRequest, reply: FastifyReply, publicUrl: string | undefined): void {
  reply.header('set-cookie', clearedSessionCookie(request, publicUrl));
}

/** GET and HEAD change nothing; every other method needs the CSRF token with cookie auth. */
export function isSafeMethod(method: string): boolean {
  return method === 'GET' || method === 'HEAD';
}

/**
 * False when the browser says the call comes from another origin: `Origin` (when sent) must be
 * the gateway's own origin as the request names it, or PUBLIC_URL's; `Sec-Fetch-Site` (when sent)
 * must not be `cross-site` or `same-site`. Clients that send neither (curl) rely on the token.
 */
export function isSameOrigin(request: FastifyRequest, publicUrl: string | undefined): boolean {
  const site = request.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') return false;
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  const own = [`${request.protocol}://${request.host}`];
  if (publicUrl !== undefined) own.push(new URL(publicUrl).origin);
  return own.includes(origin);
}

/**
 * The console's only way to the gateway: same-origin `fetch` with the session cookie (the browser
 * sends it; the page never sees it). A state-changing call carries the session's CSRF token, kept in
 * this module's memory only (never storage): a reload fetches it again with GET /console/api/session.
 * A 401 anywhere means the session is gone: every listener is told, and the app shows sign-in.
 */

export interface Session {
  actor: string;
  role: 'admin' | 'viewer';
  csrf_token: string;
  idle_expires_at: string;
  expires_at: string;
}

/** An answer other than 2xx, in the project's error format (`detail`, `error_type`). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorType: string | null,
    detail: string,
  ) {
    super(detail);
    this.name = 'ApiError';
  }
}

let csrfToken: string | null = null;
const signedOutListeners = new Set<() => void>();

export function onSignedOut(listener: () => void): () => void {
  signedOutListeners.add(listener);
  return () => signedOutListeners.delete(listener);
}

function signedOut(): void {
  csrfToken = null;
  for (const l of signedOutListeners) l();
}

async function errorFrom(res: Response): Promise<ApiError> {
  let type: string | null = null;
  let detail = `${res.status} ${res.statusText}`;
  try {
    const body = (await res.json()) as { detail?: unknown; error_type?: unknown };
    if (typeof body.error_type === 'string') type = body.error_type;
    if (typeof body.detail === 'string') detail = body.detail;
    else if (Array.isArray(body.detail)) detail = body.detail.map((d: { msg?: unknown }) => (typeof d.msg === 'string' ? d.msg : JSON.stringify(d))).join('; ');
  } catch {
    // Not JSON (a proxy's error page): the status line says enough.
  }
  return new ApiError(res.status, type, detail);
}

async function call(method: string, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && csrfToken !== null) headers['x-csrf-token'] = csrfToken;
  const res = await fetch(path, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status === 401 && path !== SESSION) signedOut();
  if (!res.ok) throw await errorFrom(res);
  return res;
}

/** A JSON call; resolves to the parsed body (undefined for 204). */
export async function api<T>(method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const res = await call(method, path, body);
  return (res.status === 204 ? undefined : await res.json()) as T;
}

/** A GET that treats 404 as "this gateway has no such report" (null) instead of an error. */
export async function optional<T>(path: string): Promise<T | null> {
  try {
    return await api<T>('GET', path);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  }
}

const SESSION = '/console/api/session';

/** The current session, or null when there is none (the page then shows sign-in). */
export async function currentSession(): Promise<Session | null> {
  try {
    const s = await api<Session>('GET', SESSION);
    csrfToken = s.csrf_token;
    return s;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return null;
    throw err;
  }
}

/** Exchanges a credential for a session cookie; the credential goes no further than this call. */
export async function signIn(credential: string): Promise<Session> {
  const s = await api<Session>('POST', SESSION, { credential });
  csrfToken = s.csrf_token;
  return s;
}

export async function signOut(): Promise<void> {
  try {
    await api<undefined>('DELETE', SESSION);
  } finally {
    signedOut();
  }
}

/** `?a=1&b=2` from the defined, non-empty values. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s === '' ? '' : `?${s}`;
}

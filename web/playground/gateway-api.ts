/**
 * The playground's calls to the gateway's client API (docs/design.md §1.1, host mode), always with
 * `Authorization: Key <credential>` and never with cookies: the credential travels in that header
 * only, never in a URL, and nothing is stored. Errors come back in fal's shape (docs/design.md §1):
 * `{"detail": "…", "error_type": …}` or, for invalid input, `{"detail": [{loc, msg, type}, …]}`.
 */

/** One pydantic-style issue of a 422 (src/domain/schema.ts ValidationIssueSchema). */
export interface Issue {
  loc: (string | number)[];
  msg: string;
}

/** A non-2xx answer, with what fal's format says about it. */
export class GatewayHttpError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly errorType: string | null,
    readonly issues: Issue[],
    readonly retryAfter: string | null,
    readonly requestId: string | null,
  ) {
    super(`${status}: ${detail}`);
    this.name = 'GatewayHttpError';
  }
}

/** A field name a 422 issue points at (`["body","num_images"]` → `num_images`), or null. */
export function issueField(issue: Issue): string | null {
  const [where, name] = issue.loc;
  return where === 'body' && typeof name === 'string' ? name : null;
}

function asIssues(detail: unknown): Issue[] {
  if (!Array.isArray(detail)) return [];
  return detail.flatMap((d: unknown) => {
    if (d === null || typeof d !== 'object') return [];
    const { loc, msg } = d as { loc?: unknown; msg?: unknown };
    return Array.isArray(loc) && typeof msg === 'string' ? [{ loc: loc.filter((l): l is string | number => typeof l === 'string' || typeof l === 'number'), msg }] : [];
  });
}

/** Reads an error answer in fal's format (or whatever came back) into a GatewayHttpError. */
export async function errorOf(res: Response): Promise<GatewayHttpError> {
  const text = await res.text().catch(() => '');
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON (a proxy in front, a cut-off answer): the status says enough.
  }
  const rec = body !== null && typeof body === 'object' ? (body as Record<string, unknown>) : {};
  const issues = asIssues(rec.detail);
  const detail =
    typeof rec.detail === 'string'
      ? rec.detail
      : issues.length > 0
        ? issues.map((i) => `${i.loc.join('.')}: ${i.msg}`).join('; ')
        : text.trim().slice(0, 300) || res.statusText || 'No detail given';
  const errorType = typeof rec.error_type === 'string' ? rec.error_type : res.headers.get('x-fal-error-type');
  return new GatewayHttpError(res.status, detail, errorType, issues, res.headers.get('retry-after'), res.headers.get('x-gateway-request-id'));
}

/** A fetch to the gateway with the credential; throws GatewayHttpError on a non-2xx answer. */
export async function call(credential: string, path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Key ${credential}`);
  const res = await fetch(path, { ...init, headers, credentials: 'omit', cache: 'no-store' });
  if (!res.ok) throw await errorOf(res);
  return res;
}

/** What `GET /v1/usage` says of the caller's own spend (a key's lifetime figures, or a token's). */
export interface OwnUsage {
  spentUsd: number;
  reservedUsd: number;
  remainingUsd: number | null;
  name: string | null;
}

export async function ownUsage(credential: string, signal?: AbortSignal): Promise<OwnUsage> {
  const res = await call(credential, '/v1/usage', { signal: signal ?? null });
  const body = (await res.json()) as Record<string, unknown>;
  const num = (v: unknown) => (typeof v === 'number' ? v : 0);
  return {
    spentUsd: num(body.spent_usd),
    reservedUsd: num(body.reserved_usd),
    remainingUsd: typeof body.remaining_usd === 'number' ? body.remaining_usd : null,
    name: typeof body.name === 'string' ? body.name : typeof body.end_user === 'string' ? `token for ${body.end_user}` : null,
  };
}

/**
 * `fal_webhook` authorisation. Through a proxy any caller could make fal POST results to any URL,
 * leaking outputs and using fal as a request reflector (docs/reliability.md B4), so a webhook must
 * be https and fall under a prefix registered on the caller's key. With a webhook public URL the
 * gateway registers its own endpoint with fal and relays to the caller's URL (webhooks/), checking
 * it here at submit and again at every send. Plain http to a loopback host is accepted only under
 * WEBHOOK_ALLOW_LOOPBACK_HTTP, a test setting (NODE_ENV=test), as the simulated fal's receivers are.
 */

/**
 * True when `candidate` is https and starts with one of `prefixes`: same scheme, host and port,
 * and a path that extends the prefix's path at a segment boundary (`/hooks` admits `/hooks` and
 * `/hooks/x`, never `/hooks-evil`), and, when the prefix has a query, exactly that query. Comparison is on parsed URLs, so `https://a.example.evil/`
 * never matches `https://a.example`.
 */
export function webhookAllowed(candidate: string, prefixes: readonly string[], opts: { allowLoopbackHttp?: boolean } = {}): boolean {
  // Backslashes, whitespace and control characters are where URL parsers disagree (WHATWG reads
  // `https://a.example\@b.example/` as host a.example, Python's urlsplit as b.example): refused.
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\\\s\x00-\x1f\x7f]/.test(candidate)) return false;
  let url: URL;
  try {
    url = new URL(candidate);
  } catch {
    return false;
  }
  const scheme = url.protocol === 'https:' || (opts.allowLoopbackHttp === true && url.protocol === 'http:' && isLoopbackHost(url.hostname));
  if (!scheme || url.username !== '' || url.password !== '' || url.hash !== '') return false;
  return prefixes.some((raw) => {
    let prefix: URL;
    try {
      prefix = new URL(raw);
    } catch {
      return false;
    }
    if (prefix.protocol !== url.protocol || prefix.host !== url.host) return false;
    // A registered query (`?tenant=a`, often the receiver's own secret or routing) must be sent
    // exactly; a prefix without one leaves the query free.
    if (prefix.search !== '' && url.search !== prefix.search) return false;
    const base = prefix.pathname;
    if (url.pathname === base) return true;
    const withSlash = base.endsWith('/') ? base : `${base}/`;
    return url.pathname.startsWith(withSlash);
  });
}

/** 127.0.0.0/8, ::1 or localhost: the only plain-http targets, and only under the test setting. */
function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** The form forwarded to fal: the WHATWG serialisation of the URL that was checked, never the raw text. */
export function canonicalWebhook(candidate: string): string {
  return new URL(candidate).href;
}

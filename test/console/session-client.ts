/** A tiny cookie-carrying client for the console session tests (one browser, one gateway origin). */
export interface Answer {
  status: number;
  text: string;
  json: Record<string, unknown>;
  headers: Headers;
}

export class ConsoleBrowser {
  cookie: string | undefined;
  csrf: string | undefined;

  constructor(private readonly base: string) {}

  async signIn(credential: string, headers: Record<string, string> = {}): Promise<Answer> {
    const a = await this.call('POST', '/console/api/session', { credential }, headers);
    const set = a.headers.get('set-cookie');
    if (a.status === 200 && set !== null) {
      this.cookie = set.split(';')[0];
      this.csrf = String(a.json.csrf_token);
    }
    return a;
  }

  /** `csrf`: true = send the session's token, a string = send that, false = none. */
  async call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}, csrf: boolean | string = true): Promise<Answer> {
    const h: Record<string, string> = { ...headers };
    if (this.cookie !== undefined) h.cookie = this.cookie;
    if (body !== undefined) h['content-type'] = 'application/json';
    if (csrf === true && this.csrf !== undefined) h['x-csrf-token'] = this.csrf;
    if (typeof csrf === 'string') h['x-csrf-token'] = csrf;
    const res = await fetch(`${this.base}${path}`, { method, headers: h, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const text = await res.text();
    let json: Record<string, unknown> = {};
    try {
      json = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
    } catch {
      json = {};
    }
    return { status: res.status, text, json, headers: res.headers };
  }
}

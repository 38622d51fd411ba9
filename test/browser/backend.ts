/**
 * The "tiny backend" of the real-browser test: what a web app's own server does for a page that
 * calls the gateway from the browser. It serves the page and its bundled script, and `GET /token`,
 * which mints a short-lived token from the gateway with the app's secret key (server-side; the
 * secret key never reaches the browser).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The body of `POST /v1/tokens`. */
export interface TokenRequest {
  expires_in?: number;
  max_usd?: number;
  max_images?: number;
  allowed_origins?: string[];
  end_user?: string;
}

export interface MintedToken {
  token: string;
  token_id: string;
  expires_at: string;
  max_usd: number | null;
  allowed_origins: string[];
  end_user: string | null;
}

export interface BackendConfig {
  gatewayUrl: string;
  secretKey: string;
  /**
   * The token kinds `GET /token?kind=` serves: a request minted afresh on each call, or a token
   * minted earlier (e.g. one left to expire).
   */
  kinds: Record<string, TokenRequest | { token: string }>;
}

export interface PageBackend {
  /** e.g. `http://127.0.0.1:40123`: the page's origin. */
  origin: string;
  /** Set once the gateway is up (the gateway's CORS_ORIGINS needs this backend's origin first). */
  configure(config: BackendConfig): void;
  /** Mints a token from the gateway with the configured secret key. */
  mint(request: TokenRequest): Promise<MintedToken>;
  close(): Promise<void>;
}

export async function mintToken(gatewayUrl: string, secretKey: string, request: TokenRequest): Promise<MintedToken> {
  const res = await fetch(`${gatewayUrl}/v1/tokens`, {
    method: 'POST',
    headers: { authorization: `Key ${secretKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(request),
  });
  if (res.status !== 201) throw new Error(`POST /v1/tokens answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as MintedToken;
}

function pageHtml(gatewayUrl: string): string {
  const attr = gatewayUrl.replace(/&/g, '&amp;').replace(/"/g, '&quot;');
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>fal-gateway browser test</title>
<style>body { font: 14px system-ui, sans-serif; margin: 16px; } img { display: block; margin-top: 12px; border: 1px solid #888; }</style>
</head>
<body data-gateway="${attr}">
<h1>fal-gateway browser token test</h1>
<p>Generates through the gateway with <code>@fal-ai/client</code>, <code>proxyUrl</code> and a short-lived token.</p>
<script src="/app.js"></script>
</body>
</html>
`;
}

/** Starts a backend on 127.0.0.1 with a random port, serving `bundle` (JavaScript text) as `/app.js`. */
export async function startPageBackend(bundle: string): Promise<PageBackend> {
  let config: BackendConfig | undefined;

  const send = (res: ServerResponse, status: number, type: string, body: string) => {
    res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://backend.invalid');
    if (req.method !== 'GET') return send(res, 405, 'text/plain', 'method not allowed');
    if (config === undefined) return send(res, 503, 'text/plain', 'backend not configured yet');
    switch (url.pathname) {
      case '/':
        return send(res, 200, 'text/html; charset=utf-8', pageHtml(config.gatewayUrl));
      case '/favicon.ico':
        res.writeHead(204).end();
        return;
      case '/app.js':
        return send(res, 200, 'text/javascript; charset=utf-8', bundle);
      case '/token': {
        const kind = config.kinds[url.searchParams.get('kind') ?? 'page'];
        if (kind === undefined) return send(res, 404, 'application/json', JSON.stringify({ detail: 'unknown token kind' }));
        const token = 'token' in kind ? kind.token : (await backend.mint(kind)).token;
        return send(res, 200, 'application/json', JSON.stringify({ token }));
      }
      default:
        return send(res, 404, 'text/plain', 'not found');
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => send(res, 500, 'text/plain', err instanceof Error ? err.message : String(err)));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  const backend: PageBackend = {
    origin: `http://127.0.0.1:${port}`,
    configure(c) {
      config = c;
    },
    mint(request) {
      if (config === undefined) return Promise.reject(new Error('backend not configured yet'));
      return mintToken(config.gatewayUrl, config.secretKey, request);
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
  return backend;
}

/**
 * fal call latency and failures, measured around the one fal client (upstream/fal-upstream.ts) so
 * no pipeline file has to know about metrics. Latency is time to fal's response headers; a body
 * that breaks later is the pipeline's to report (its settlement shows as unverified).
 */
import { UpstreamFailure, type FalUpstream, type UpstreamRequest } from '../upstream/fal-upstream.js';
import type { GatewayMetrics } from './metrics.js';

/** Which fal call this is, from fixed parts of the request the gateway composed (bounded). */
export function falCall(req: UpstreamRequest): 'run' | 'submit' | 'status' | 'stream' | 'result' | 'cancel' {
  if (req.stream === true) return 'stream';
  if (req.origin === 'run') return 'run';
  if (req.method === 'POST') return 'submit';
  if (req.method === 'PUT') return 'cancel';
  return req.path.endsWith('/status') ? 'status' : 'result';
}

/** An error status fal answered, as a bounded error_type; null for a success or a 404/409 on the queue. */
export function httpErrorType(status: number): string | null {
  if (status === 401 || status === 403) return 'auth';
  if (status === 429) return 'rate_limited';
  if (status >= 500) return 'server_error';
  if (status === 400 || status === 422) return 'client_error';
  return null;
}

export function meteredUpstream(inner: FalUpstream, metrics: GatewayMetrics): FalUpstream {
  return {
    async request(req) {
      const call = falCall(req);
      const end = metrics.falDuration.startTimer({ call });
      try {
        const res = await inner.request(req);
        end();
        const errorType = httpErrorType(res.statusCode);
        if (errorType !== null) metrics.falFailures.inc({ call, error_type: errorType });
        return res;
      } catch (err) {
        end();
        metrics.falFailures.inc({ call, error_type: err instanceof UpstreamFailure ? err.kind : 'other' });
        throw err;
      }
    },
    close: () => inner.close(),
  };
}

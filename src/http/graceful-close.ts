/**
 * Graceful close of the HTTP side. The order, from SIGTERM (server.ts drives it):
 *  1. drain(): /readyz answers 503 while requests are still served, so balancers route elsewhere
 *     before this instance stops accepting (SHUTDOWN_DRAIN_MS);
 *  2. app.close(): no new connections; open status streams end now (clients reconnect elsewhere);
 *  3. at SHUTDOWN_GRACE_MS the shutdown signal aborts every fal call still waiting for its headers (callFal passes
 *     it): a POST fal may have run then gets a complete 500 upstream_outcome_unknown and its row is
 *     charged at the quote, flagged. Never a cut socket: @fal-ai/client and fal_client retry those,
 *     and fal bills the retry as a second generation;
 *  4. ANSWER_WINDOW_MS later any connection still open is cut, so the process always exits.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';

/** Time between aborting the fal calls and cutting what is left: writing a 500 takes milliseconds. */
export const ANSWER_WINDOW_MS = 3_000;

export interface GracefulClose {
  /** Fired at the end of the grace; every fal call made for a client request listens to it. */
  readonly signal: AbortSignal;
  /** True from drain() (or close) on: readiness answers 503. */
  isClosing(): boolean;
  drain(): void;
  /** Resolves once every request handler has produced its answer, or after `maxMs`. */
  settled(maxMs: number): Promise<void>;
}

declare module 'fastify' {
  interface FastifyInstance {
    graceful: GracefulClose;
  }
}

/** Call before any route is registered: the hooks must see every request. */
export function registerGracefulClose(app: FastifyInstance, graceMs: number, endStreams: () => void): GracefulClose {
  const abort = new AbortController();
  let draining = false;
  // Requests whose handler has not answered yet. A handler settles the ledger before it sends, so
  // once this is empty no handler will write to the stores again (server.ts closes them after).
  const pending = new Set<FastifyRequest>();
  let onIdle: (() => void) | undefined;
  const finished = (request: FastifyRequest) => {
    pending.delete(request);
    if (pending.size === 0) onIdle?.();
  };
  app.addHook('onRequest', (request, _reply, done) => {
    pending.add(request);
    done();
  });
  app.addHook('onSend', (request, reply, payload, done) => {
    finished(request);
    // While closing, every answer ends its keep-alive connection, so the server closes as soon as
    // the last answer is written instead of waiting for idle sockets to be cut.
    if (draining) reply.header('connection', 'close');
    done(null, payload);
  });
  app.addHook('onResponse', (request, _reply, done) => {
    finished(request);
    done();
  });
  app.addHook('preClose', (done) => {
    draining = true;
    endStreams();
    setTimeout(() => abort.abort(new Error('shutdown grace is over')), graceMs).unref();
    setTimeout(() => app.server.closeAllConnections(), graceMs + ANSWER_WINDOW_MS).unref();
    done();
  });

  const graceful: GracefulClose = {
    signal: abort.signal,
    isClosing: () => draining,
    drain() {
      draining = true;
    },
    settled(maxMs) {
      if (pending.size === 0) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, maxMs);
        onIdle = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    },
  };
  app.decorate('graceful', graceful);
  return graceful;
}

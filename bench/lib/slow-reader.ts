/**
 * A client that reads its response at a fixed byte rate over a raw socket (pausing the socket
 * between chunks, so TCP backpressure reaches the server). One request per connection
 * (`Connection: close`), repeated until stopped. Used by S7 to see whether a proxy buffers a large
 * body for a slow client (RSS grows) or passes the backpressure upstream (RSS flat).
 */
import { connect, type Socket } from 'node:net';
import type { HttpSpec } from './targets.js';

export interface SlowReader {
  /** Response bytes received so far. */
  bytes(): number;
  stop(): void;
}

export function slowReader(spec: HttpSpec, bytesPerSec: number): SlowReader {
  const url = new URL(spec.origin);
  const body = Buffer.from(spec.body ?? '', 'utf8');
  const head = [
    `${spec.method} ${spec.path} HTTP/1.1`,
    `host: ${url.host}`,
    ...Object.entries(spec.headers).map(([k, v]) => `${k}: ${v}`),
    `content-length: ${body.length}`,
    'connection: close',
    '',
    '',
  ].join('\r\n');
  let received = 0;
  let stopped = false;
  let socket: Socket | undefined;
  let timer: NodeJS.Timeout | undefined;

  const open = (): void => {
    if (stopped) return;
    const s = connect(Number(url.port), url.hostname);
    socket = s;
    s.on('connect', () => s.write(Buffer.concat([Buffer.from(head, 'latin1'), body])));
    s.on('data', (chunk: Buffer) => {
      received += chunk.length;
      s.pause();
      timer = setTimeout(() => s.resume(), (chunk.length / bytesPerSec) * 1000);
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      if (!stopped) setTimeout(open, 10);
    });
  };
  open();
  return {
    bytes: () => received,
    stop: () => {
      stopped = true;
      clearTimeout(timer);
      socket?.destroy();
    },
  };
}

/**
 * Open status streams are long-lived and hold a socket to fal each, so they are counted: at most
 * `perKey` per key and `total` per instance (the size of the stream socket pool). Without this one
 * key could open hundreds of streams and stall every other key's queue traffic.
 */
import { GatewayError } from '../errors.js';

export class StreamSlots {
  private readonly byKey = new Map<string, number>();
  private readonly open = new Set<() => void>();
  private total = 0;

  constructor(
    private readonly perKey: number,
    private readonly max: number,
  ) {}

  /** Ends every open stream (shutdown). */
  endAll(): void {
    for (const end of [...this.open]) end();
  }

  /** Remembers how to end an open stream until it closes. */
  track(end: () => void): () => void {
    this.open.add(end);
    return () => this.open.delete(end);
  }

  /** Takes a slot or throws 429; the returned function gives it back (idempotent). */
  acquire(keyId: string): () => void {
    const mine = this.byKey.get(keyId) ?? 0;
    if (mine >= this.perKey || this.total >= this.max) {
      const why = mine >= this.perKey ? `this key already has ${this.perKey} open status streams` : 'the gateway has no status stream free';
      throw new GatewayError('rate_limited', `Too many status streams: ${why}; poll the status URL instead, or retry shortly`, { 'retry-after': '5' });
    }
    this.byKey.set(keyId, mine + 1);
    this.total++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const n = (this.byKey.get(keyId) ?? 1) - 1;
      if (n === 0) this.byKey.delete(keyId);
      else this.byKey.set(keyId, n);
    };
  }
}

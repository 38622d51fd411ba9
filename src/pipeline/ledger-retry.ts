/**
 * Ledger writes that must not be lost when the database fails after fal answered (issue #9, 9d):
 * the caller delivers fal's answer anyway and the write is kept here, retried every `intervalMs`
 * until the database takes it. Until then the row stays `reserved`, so the quote stays held and
 * budgets err on the safe side; if the process dies first, recovery charges the row at its quote,
 * flagged (reconciler.ts). Writes for one row run in the order they were given.
 */
import type { FastifyBaseLogger } from 'fastify';
import { isStoreUnavailable } from '../errors.js';

export type LedgerWrite = () => Promise<unknown>;

export class LedgerRetry {
  private readonly queued = new Map<string, { what: string; write: LedgerWrite }[]>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly log: FastifyBaseLogger,
    private readonly intervalMs = 1_000,
    /** Rows held at most; past it a failed write is dropped (logged) and recovery charges its row at the quote. */
    private readonly maxRows = 10_000,
  ) {}

  /** Runs the write now (after any still queued for its row): true if it landed, false if it is kept for retry. */
  async write(rowId: string, what: string, write: LedgerWrite): Promise<boolean> {
    const queue = this.queued.get(rowId);
    if (queue) {
      queue.push({ what, write });
      return false;
    }
    try {
      await write();
      return true;
    } catch (err) {
      if (!isStoreUnavailable(err)) {
        // A write the database refused (a conflict, a bug) will never land by retrying: leave the
        // row reserved for the reconciler, which settles it by its own rules.
        this.log.error({ err, ledgerId: rowId, write: what }, 'ledger write refused; the reconciler will settle the row');
        return false;
      }
      if (this.queued.size >= this.maxRows) {
        this.log.error({ err, ledgerId: rowId, write: what }, 'ledger write lost (retry queue full); recovery will charge the row at its quote');
        return false;
      }
      this.log.error({ err, ledgerId: rowId, write: what }, 'ledger write failed; kept in memory and retried until the database answers');
      this.queued.set(rowId, [{ what, write }]);
      this.arm();
      return false;
    }
  }

  /** True while this instance holds an unwritten settlement for the row (recovery must leave it alone). */
  holds(rowId: string): boolean {
    return this.queued.has(rowId);
  }

  get size(): number {
    return this.queued.size;
  }

  /** One pass over every held row, in order; a row's queue stops at its first failure. Concurrent calls share it. */
  flush(): Promise<void> {
    this.flushing ??= this.flushOnce().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => void this.flush(), this.intervalMs);
    this.timer.unref();
  }

  private async flushOnce(): Promise<void> {
    for (const [rowId, queue] of [...this.queued]) {
      for (let next = queue[0]; next !== undefined; next = queue[0]) {
        try {
          await next.write();
        } catch (err) {
          this.log.debug({ err, ledgerId: rowId, write: next.what }, 'ledger write retry failed');
          break;
        }
        queue.shift();
        if (queue.length === 0) {
          this.queued.delete(rowId);
          this.log.info({ ledgerId: rowId, write: next.what }, 'held ledger write landed');
        }
      }
    }
    if (this.queued.size === 0) this.stop();
  }
}

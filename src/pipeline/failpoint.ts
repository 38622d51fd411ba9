/**
 * Crash injection for the ledger's crash tests (docs/reliability.md R6): when FAILPOINT names the
 * point a request has reached, the process kills itself with SIGKILL, exactly as an OOM kill or a
 * power cut would stop it: no handler runs, nothing is flushed.
 *
 * Points: `after-reserve` (reservation committed, fal not called), `after-upstream` (fal answered,
 * nothing recorded yet), `after-attach` (queue submit: fal's id recorded, client not answered).
 */
export type Failpoint = 'after-reserve' | 'after-upstream' | 'after-attach';

export function failpoint(configured: string | undefined, point: Failpoint): void {
  if (configured === point) process.kill(process.pid, 'SIGKILL');
}

/** Formatting of what is not money (money: web/shared/money.ts). */

/** Megapixels to at most 6 decimals (the API's precision), trailing zeros dropped. */
export function formatMp(mp: number | null | undefined): string {
  if (mp === null || mp === undefined || !Number.isFinite(mp)) return '—';
  return `${Number(mp.toFixed(6)).toLocaleString('en-US', { maximumFractionDigits: 6 })} MP`;
}

export function formatCount(n: number | null | undefined): string {
  return n === null || n === undefined ? '—' : n.toLocaleString('en-US');
}

/** `part` of `whole` as a percentage with one decimal; `—` when nothing was counted. */
export function formatRate(part: number | undefined, whole: number | undefined): string {
  if (part === undefined || whole === undefined || whole === 0) return '—';
  return `${((part * 100) / whole).toFixed(1)}%`;
}

/** `2026-12-02 01:23 UTC`: the ledger's days and months are UTC, so the console shows UTC. */
export function formatTime(iso: string | null | undefined): string {
  if (iso === null || iso === undefined) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** A duration for "runs out in …": minutes, hours or days. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return 'never at this rate';
  if (ms <= 0) return 'now';
  const min = ms / 60_000;
  if (min < 60) return `${Math.max(1, Math.round(min))} min`;
  if (min < 48 * 60) return `${(min / 60).toFixed(1)} h`;
  return `${Math.round(min / 1440)} days`;
}

/** Midnight UTC of `now`'s day and the first of its month, as ISO text (the ledger's periods). */
export function periodStarts(now: Date): { day: string; month: string } {
  const day = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  const month = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  return { day: day.toISOString(), month: month.toISOString() };
}

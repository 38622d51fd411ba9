/** Prints the long run's figures as the Markdown that goes into RELIABILITY.md. */
import { microToUsd } from '../../src/domain/pricing.js';
import type { Figures } from './audit.js';

export interface RunFacts {
  command: string;
  machine: string;
  seconds: number;
  recoverySeconds: number;
  disruptions: number;
  wireFaults: Record<string, number>;
}

export function printFigures(f: Figures, run: RunFacts): void {
  const usd = (m: number): string => `$${microToUsd(Math.abs(m))}`;
  const signed = (m: number): string => `${m < 0 ? '-' : ''}${usd(m)} (${m} µUSD)`;
  const mark = (ok: boolean): string => (ok ? 'ok' : '**NOT 0**');
  const retryOther = f.retryableAfterFalMayHaveRun.total - f.retryableAfterFalMayHaveRun.onKilledInstance;
  const lines = [
    `- Command: \`${run.command}\``,
    `- Machine: ${run.machine}`,
    `- Duration: ${run.seconds} s (recovery after faults off: ${run.recoverySeconds} s); instance disruptions (SIGKILL ×3 : SIGTERM ×1): ${run.disruptions}`,
    `- Network faults injected on POSTs: ${Object.entries(run.wireFaults).filter(([k]) => k !== 'pass').map(([k, v]) => `${k} ${v}`).join(', ')}`,
    '',
    '| figure | value |',
    '|---|---|',
    `| requests | ${f.requests} |`,
    `| answers | ${Object.entries(f.answers).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k}: ${v}`).join('; ')} |`,
    `| cut sockets (transport errors) | ${f.transport.onKilledInstance} on an instance killed meanwhile; ${f.transport.other} other (${f.transport.otherFalReceived} of them reached fal) |`,
    `| ledger total | ${signed(f.ledgerMicro)} |`,
    `| fal's bill | ${signed(f.billMicro)} |`,
    `| difference | ${signed(f.ledgerMicro - f.billMicro)} |`,
    `| of which: charged at the quote, flagged unverified, for calls fal never billed (by contract) | ${signed(f.quoteChargesFalNeverBilledMicro)} |`,
    `| of which: rows of calls cut by a kill before any id was known (${f.crashOrphans.rows} rows, charged ${usd(f.crashOrphans.chargedMicro)}, fal billed ${usd(f.crashOrphans.billedMicro)}) | ${signed(f.crashOrphans.chargedMicro - f.crashOrphans.billedMicro)} |`,
    `| unexplained difference (must be 0) | ${signed(f.unexplainedMicro)} ${mark(f.unexplainedMicro === 0)} |`,
    `| rows left open after recovery (must be 0) | ${f.openRows} ${mark(f.openRows === 0)} |`,
    `| double charges (must be 0) | ${f.doubleCharges} ${mark(f.doubleCharges === 0)} |`,
    `| overspend (must be 0) | ${f.overspend.keys} keys, ${usd(f.overspend.micro)} ${mark(f.overspend.keys === 0)} |`,
    `| retryable answers for a POST fal may have run (must be 0) | ${retryOther} ${mark(retryOther === 0)}; plus ${f.retryableAfterFalMayHaveRun.onKilledInstance} cut by a SIGKILL of their instance |`,
  ];
  if (f.unlabelled.length > 0) lines.push('', 'Error answers without an `error_type` (samples):', ...f.unlabelled.map((u) => `- ${u}`));
  process.stdout.write(`${lines.join('\n')}\n`);
}

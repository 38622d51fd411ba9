/**
 * The long run's figures, from three independent records: the client answers, the ledger rows in
 * Postgres and the simulated fal's own bill. Rows are tied to a call by the gateway id the client
 * got (`x-gateway-request-id`) or by fal's request id (the sim logs each call's tag).
 */
import { costOfBillableUnits } from '../../src/domain/pricing.js';
import { isRetryable } from '../../test/helpers/retryable.js';
import type { Sent } from './traffic.js';

export interface LedgerDbRow {
  id: string;
  key_id: string;
  state: string;
  settled_micro: string | null;
  verified: boolean | null;
  fal_request_id: string | null;
}

export interface AuditInput {
  sent: Sent[];
  rows: LedgerDbRow[];
  /** fal request id → billed units, from the sim. */
  billedByRequest: Record<string, number>;
  /** tag → fal request ids the sim received for it (POSTs). */
  falIdsByTag: Map<string, string[]>;
  price: number;
  budgets: { keyId: string; budgetMicro: number | null }[];
}

export interface Figures {
  requests: number;
  answers: Record<string, number>;
  ledgerMicro: number;
  billMicro: number;
  quoteChargesFalNeverBilledMicro: number;
  crashOrphans: { rows: number; chargedMicro: number; billedMicro: number };
  unexplainedMicro: number;
  openRows: number;
  doubleCharges: number;
  overspend: { keys: number; micro: number };
  retryableAfterFalMayHaveRun: { total: number; onKilledInstance: number };
  /** Answers that were a cut socket: on an instance killed meanwhile, or not (with fal's view). */
  transport: { onKilledInstance: number; other: number; otherFalReceived: number };
  /** Error answers without an error_type (fal's nginx pages aside), with a sample body each. */
  unlabelled: string[];
}

export function audit(input: AuditInput): Figures {
  const micro = (units: number | undefined): number => (units === undefined ? 0 : (costOfBillableUnits(String(units), input.price) ?? 0));
  const tagByFal = new Map<string, string>();
  for (const [tag, ids] of input.falIdsByTag) for (const id of ids) tagByFal.set(id, tag);
  const tagByGw = new Map<string, string>();
  for (const s of input.sent) if (s.answer.gatewayId !== undefined) tagByGw.set(s.answer.gatewayId, s.tag);
  const billOfTag = (tag: string): number => (input.falIdsByTag.get(tag) ?? []).reduce((sum, id) => sum + micro(input.billedByRequest[id]), 0);

  const rowsByTag = new Map<string, LedgerDbRow[]>();
  const orphans: LedgerDbRow[] = [];
  for (const r of input.rows) {
    const tag = tagByGw.get(r.id) ?? (r.fal_request_id === null ? undefined : tagByFal.get(r.fal_request_id));
    if (tag === undefined) orphans.push(r);
    else rowsByTag.set(tag, [...(rowsByTag.get(tag) ?? []), r]);
  }
  const charged = (rs: LedgerDbRow[]): number => rs.reduce((sum, r) => sum + (r.state === 'settled' ? Number(r.settled_micro ?? 0) : 0), 0);

  const ledgerMicro = charged(input.rows);
  const billMicro = Object.values(input.billedByRequest).reduce((sum, u) => sum + micro(u), 0);
  let quoteUnbilled = 0;
  let doubleCharges = 0;
  for (const [tag, rs] of rowsByTag) {
    const c = charged(rs);
    if (billOfTag(tag) === 0 && c > 0 && rs.every((r) => r.verified === false)) quoteUnbilled += c;
    if (rs.filter((r) => r.state === 'settled' && Number(r.settled_micro ?? 0) > 0).length > 1) doubleCharges++;
  }
  // A call fal received twice would be a second generation for one client call.
  for (const ids of input.falIdsByTag.values()) if (ids.filter((id) => micro(input.billedByRequest[id]) > 0).length > 1) doubleCharges++;
  // Calls cut by a SIGKILL before the client got a gateway id and before fal's id was recorded.
  const orphanTags = input.sent.filter((s) => s.answer.gatewayId === undefined && !rowsByTag.has(s.tag));
  const crashOrphans = { rows: orphans.length, chargedMicro: charged(orphans), billedMicro: orphanTags.reduce((sum, s) => sum + billOfTag(s.tag), 0) };
  const unexplainedMicro = ledgerMicro - billMicro - quoteUnbilled - (crashOrphans.chargedMicro - crashOrphans.billedMicro);

  let overKeys = 0;
  let overMicro = 0;
  for (const b of input.budgets) {
    if (b.budgetMicro === null) continue;
    const spent = charged(input.rows.filter((r) => r.key_id === b.keyId));
    if (spent > b.budgetMicro) {
      overKeys++;
      overMicro += spent - b.budgetMicro;
    }
  }

  const answers: Record<string, number> = {};
  const retry = { total: 0, onKilledInstance: 0 };
  const transport = { onKilledInstance: 0, other: 0, otherFalReceived: 0 };
  const unlabelled: string[] = [];
  for (const s of input.sent) {
    const label = s.answer.status === 'transport' ? 'transport' : `${s.answer.status}${s.answer.errorType ? ` ${s.answer.errorType}` : ''}`;
    answers[label] = (answers[label] ?? 0) + 1;
    if (typeof s.answer.status === 'number' && s.answer.status >= 400 && s.answer.errorType === undefined && !s.answer.body.includes('nginx') && unlabelled.length < 5) {
      unlabelled.push(`${s.answer.status} ${s.op}/${s.door}${s.disrupted ? ' (instance stopping)' : ''}: ${s.answer.body.slice(0, 160).replace(/\s+/g, ' ')}`);
    }
    const received = (input.falIdsByTag.get(s.tag) ?? []).length > 0;
    const mayHaveRun = received && s.answer.status !== 429;
    if (s.answer.status === 'transport') {
      if (s.disrupted) transport.onKilledInstance++;
      else {
        transport.other++;
        if (received) transport.otherFalReceived++;
      }
    }
    if (mayHaveRun && isRetryable(s.answer.answer)) {
      retry.total++;
      if (s.disrupted) retry.onKilledInstance++;
    }
  }
  return {
    requests: input.sent.length,
    answers,
    ledgerMicro,
    billMicro,
    quoteChargesFalNeverBilledMicro: quoteUnbilled,
    crashOrphans,
    unexplainedMicro,
    openRows: input.rows.filter((r) => r.state === 'reserved').length,
    doubleCharges,
    overspend: { keys: overKeys, micro: overMicro },
    retryableAfterFalMayHaveRun: retry,
    transport,
    unlabelled,
  };
}

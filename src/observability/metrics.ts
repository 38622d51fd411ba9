/**
 * The gateway's Prometheus instruments, one registry per app (so two apps in one process, as in
 * tests, never share counters). Every counter and histogram counts what this instance did, so they
 * sum across instances; the budget and in-flight gauges (budget-gauges.ts) are global facts read
 * from the shared database and must be aggregated with max or avg instead. Label sets are fixed and
 * bounded: operations, doors, statuses and reasons are small enums; `key_id` and `team` only ever
 * name keys and teams that exist (settled rows), so they are bounded by the number of keys.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export type RefusalReason = 'budget' | 'rate' | 'concurrency' | 'policy' | 'validation' | 'forbidden';
export type StatusLookup = 'cache_hit' | 'coalesced' | 'fetched';

/** Seconds; generations take seconds to minutes, polls and refusals milliseconds. */
const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({ name: 'gateway_requests_total', help: 'Requests answered by this instance', labelNames: ['operation', 'door', 'status'] as const, registers: [this.registry] });
  readonly requestDuration = new Histogram({
    name: 'gateway_request_duration_seconds',
    help: 'Time from request received to answer sent',
    labelNames: ['operation', 'door', 'status'] as const,
    buckets: REQUEST_BUCKETS,
    registers: [this.registry],
  });
  readonly falDuration = new Histogram({
    name: 'gateway_fal_request_duration_seconds',
    help: "Time until fal's response headers (or the failure), per kind of fal call",
    labelNames: ['call'] as const,
    buckets: REQUEST_BUCKETS,
    registers: [this.registry],
  });
  readonly falFailures = new Counter({
    name: 'gateway_fal_failures_total',
    help: 'fal calls that failed: no response (unreachable, timeout, aborted, broken) or an error status',
    labelNames: ['call', 'error_type'] as const,
    registers: [this.registry],
  });
  readonly refusals = new Counter({ name: 'gateway_refusals_total', help: 'Requests the gateway refused before calling fal, by reason', labelNames: ['reason'] as const, registers: [this.registry] });
  readonly spend = new Counter({ name: 'gateway_spend_micro_usd_total', help: 'Micro-USD settled (charged) by this instance', labelNames: ['key_id', 'team'] as const, registers: [this.registry] });
  readonly megapixels = new Counter({ name: 'gateway_megapixels_settled_total', help: 'Requested megapixels of the rows this instance settled', labelNames: ['key_id', 'team'] as const, registers: [this.registry] });
  readonly settlements = new Counter({ name: 'gateway_settlements_total', help: 'Ledger rows this instance settled, by where the amount came from', labelNames: ['source'] as const, registers: [this.registry] });
  readonly unverified = new Counter({ name: 'gateway_settlements_unverified_total', help: 'Settlements charged at the quote because fal did not confirm the amount', registers: [this.registry] });
  readonly overruns = new Counter({ name: 'gateway_settlement_overruns_total', help: 'Settlements above their reservation (fal billed more than reserved)', registers: [this.registry] });
  readonly overrunMicro = new Counter({ name: 'gateway_settlement_overrun_micro_usd_total', help: 'Micro-USD settled above the reservations', registers: [this.registry] });
  readonly statusLookups = new Counter({
    name: 'gateway_status_lookups_total',
    help: 'Queue status polls: served from the status cache, joined to a call already in flight, or fetched from fal',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  /** Set by this instance's last reconciliation run (services/reconciliation.ts): aggregate with max. */
  readonly reconciliationBuckets = new Gauge({
    name: 'gateway_reconciliation_buckets',
    help: "Buckets of the last reconciliation run against fal's usage API, by status (matched, difference, pending)",
    labelNames: ['status'] as const,
    registers: [this.registry],
  });
  readonly reconciliationDifferences = new Counter({ name: 'gateway_reconciliation_differences_total', help: "Buckets found to differ from fal's usage (each new difference once)", registers: [this.registry] });
  /** Webhooks (webhooks/): fal's deliveries to /webhooks/fal by outcome and reason, relays given up. */
  readonly webhookDeliveries = new Counter({
    name: 'gateway_webhook_deliveries_total',
    help: "fal's deliveries to /webhooks/fal: accepted (reason none) or refused, by reason",
    labelNames: ['outcome', 'reason'] as const,
    registers: [this.registry],
  });
  readonly webhookRelayFailures = new Counter({ name: 'gateway_webhook_relay_failures_total', help: "Relays to callers' webhooks given up after the last attempt", registers: [this.registry] });

  refused(reason: RefusalReason): void {
    this.refusals.inc({ reason });
  }

  statusLookup(outcome: StatusLookup): void {
    this.statusLookups.inc({ outcome });
  }
}

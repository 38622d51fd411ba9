/**
 * Builds reconciliation from the config for app.ts (no I/O until a run): the Platform API client
 * when FAL_ADMIN_KEY is set, the service with its alert and metrics hooks, and the scheduled job
 * (started by server.ts only when FAL_ADMIN_KEY is set and RECONCILE_USAGE_INTERVAL_MS > 0).
 */
import type { FastifyBaseLogger } from 'fastify';
import type { OperatorAlerts } from '../alerts/operator-alerts.js';
import type { Config } from '../config.js';
import type { GatewayMetrics } from '../observability/metrics.js';
import type { Stores } from '../store/stores.js';
import { createFalPlatform } from '../upstream/fal-platform.js';
import { GATEWAY_USER_AGENT } from '../version.js';
import { ReconciliationJob } from './reconciliation-job.js';
import { ReconciliationService } from './reconciliation.js';

export interface ReconciliationParts {
  service: ReconciliationService;
  job: ReconciliationJob;
  /** True when the job should run (FAL_ADMIN_KEY set, interval > 0). */
  scheduled: boolean;
}

export function reconciliationParts(config: Config, stores: Stores, now: () => Date, log: FastifyBaseLogger, alerts: OperatorAlerts, metrics: GatewayMetrics): ReconciliationParts {
  const p = config.platform;
  const platform =
    p.adminKey === undefined
      ? null
      : createFalPlatform({ apiUrl: p.apiUrl, adminKey: p.adminKey, priceKey: p.adminKey, timeoutMs: p.timeoutMs, userAgent: GATEWAY_USER_AGENT });
  const service = new ReconciliationService({
    platform,
    store: stores.reconciliation,
    lagMs: p.reconcileLagMs,
    now,
    onDifference: (b) => {
      metrics.reconciliationDifferences.inc();
      log.warn({ bucket: b.size, start: b.start, difference_units: b.diffUnits, difference_micro: b.diffMicro, rows: b.rows }, 'reconciliation: fal usage differs from the ledger');
      alerts.reconciliationDifference(b);
    },
    onRun: (r) => {
      metrics.reconciliationBuckets.set({ status: 'matched' }, r.matched);
      metrics.reconciliationBuckets.set({ status: 'difference' }, r.differences);
      metrics.reconciliationBuckets.set({ status: 'pending' }, r.pending);
    },
  });
  const job = new ReconciliationJob(service, stores.reconciliation, { intervalMs: p.reconcileUsageIntervalMs, lagMs: p.reconcileLagMs, size: p.reconcileBucket, now, log });
  return { service, job, scheduled: platform !== null && p.reconcileUsageIntervalMs > 0 };
}

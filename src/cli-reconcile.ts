/**
 * `fal-gateway reconcile --from DATE --to DATE [--bucket hour|day] [--json]`: the same run as
 * `POST /admin/reconciliation/run`, on the database named by DATABASE_URL, against fal's usage API
 * with FAL_ADMIN_KEY. The result is stored like the server's (a re-run replaces it) and a new
 * difference raises the operator alert (its log line on stderr; the webhook's first attempt is
 * sent, its retries are not waited for). A run is audited as `reconciliation.run` by `cli:<os user>`.
 *
 * Exit status: 0 every bucket matched or pending, 1 a difference was found, 2 bad arguments or
 * configuration, 3 fal or the database failed. The CLI dispatcher (cli.ts) sets process.exitCode.
 */
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { OperatorAlerts } from './alerts/operator-alerts.js';
import { ConfigError, loadConfig } from './config.js';
import { GatewayError } from './errors.js';
import { parseInstant } from './http/routes/admin-reconciliation.js';
import { loggerOptions } from './logger.js';
import { GatewayMetrics } from './observability/metrics.js';
import { reconciliationParts } from './services/reconciliation-wiring.js';
import { bucketView, resultView } from './services/reconciliation-view.js';
import { runAuditAction, type ReconcileResult } from './services/reconciliation.js';
import { recordAdminAction } from './services/audit.js';
import { cliAudit } from './cli/command.js';
import { openStores, type Stores } from './store/stores.js';

export const RECONCILE_USAGE = `fal-gateway reconcile --from DATE --to DATE [--bucket hour|day] [--json]
  compares the ledger with fal's usage API (needs FAL_ADMIN_KEY); exit 1 when a bucket differs`;

export interface ReconcileCommandDeps {
  env: Record<string, string | undefined>;
  out: (text: string) => void;
  err: (text: string) => void;
  /** Stores to use instead of opening DATABASE_URL (tests). */
  stores?: Stores;
  now?: () => Date;
}

export async function reconcileCommand(argv: string[], deps: ReconcileCommandDeps): Promise<number> {
  let values: { from?: string; to?: string; bucket?: string; json?: boolean };
  try {
    ({ values } = parseArgs({ args: argv, options: { from: { type: 'string' }, to: { type: 'string' }, bucket: { type: 'string' }, json: { type: 'boolean' } }, strict: true, allowPositionals: false }));
  } catch (e) {
    deps.err(`${e instanceof Error ? e.message : String(e)}\n${RECONCILE_USAGE}`);
    return 2;
  }
  const from = values.from === undefined ? null : parseInstant(values.from);
  const to = values.to === undefined ? null : parseInstant(values.to);
  const bucket = values.bucket ?? 'hour';
  if (from === null || to === null) return usage(deps, '--from and --to are required: YYYY-MM-DD or ISO-8601 timestamps');
  if (from.getTime() >= to.getTime()) return usage(deps, '--from must be before --to');
  if (bucket !== 'hour' && bucket !== 'day') return usage(deps, `--bucket must be hour or day (got "${bucket}")`);

  let config;
  try {
    // FAL_KEY is not needed here (the usage API takes FAL_ADMIN_KEY), as for the other admin commands.
    config = loadConfig(deps.env, { demo: true });
  } catch (e) {
    deps.err(e instanceof ConfigError ? e.message : String(e));
    return 2;
  }
  const now = deps.now ?? (() => new Date());
  const log = pino(loggerOptions('warn'), pino.destination(2));
  let stores: Stores | undefined;
  let alerts: OperatorAlerts | undefined;
  try {
    stores = deps.stores ?? (await openStores(config.databaseUrl, { ...config.database }));
    alerts = new OperatorAlerts(config.alerts, stores, log, now);
    const { service } = reconciliationParts(config, stores, now, log, alerts, new GatewayMetrics());
    const result = await service.run(from, to, bucket);
    await recordAdminAction(cliAudit(stores), runAuditAction(result), now());
    deps.out(values.json === true ? JSON.stringify(resultView(result), null, 2) : table(result));
    return result.differences > 0 ? 1 : 0;
  } catch (e) {
    if (e instanceof GatewayError) {
      deps.err(`reconcile failed: ${e.detail}`);
      return e.code === 'conflict' || e.code === 'bad_request' ? 2 : 3;
    }
    deps.err(`reconcile failed: ${e instanceof Error ? e.message : String(e)}`);
    return 3;
  } finally {
    if (deps.stores === undefined) await stores?.close();
  }
}

function usage(deps: ReconcileCommandDeps, message: string): number {
  deps.err(`${message}\n${RECONCILE_USAGE}`);
  return 2;
}

/** One line per bucket, then the rows that explain each difference. */
function table(r: ReconcileResult): string {
  const lines = [`${r.size} buckets ${r.from} .. ${r.to}: ${r.matched} matched, ${r.differences} different, ${r.pending} pending`];
  for (const b of r.buckets.map(bucketView)) {
    lines.push(`${b.start}  ${b.status.padEnd(10)}  fal ${b.fal_units} units $${b.fal_usd}  ledger ${b.ledger_units} units $${b.ledger_usd}  diff ${b.difference_units} units $${b.difference_usd}${b.note === null ? '' : `  (${b.note})`}`);
    if (b.status !== 'difference') continue;
    for (const row of b.rows) lines.push(`    ${row.reason}: ledger ${row.ledger_id} fal ${row.fal_request_id ?? '-'} units ${row.billed_units ?? '-'}`);
  }
  return lines.join('\n');
}

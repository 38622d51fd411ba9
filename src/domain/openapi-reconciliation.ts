/**
 * OpenAPI paths for reconciliation against fal's usage API (services/reconciliation.ts), with the
 * TypeBox schemas the routes validate with (http/routes/admin-reconciliation.ts), declared once here.
 */
import { Type } from '@sinclair/typebox';

type Json = Record<string, unknown>;

const Bucket = Type.Union([Type.Literal('hour'), Type.Literal('day')], { description: 'UTC hour or day buckets (default hour)' });
const Instant = (description: string) => Type.String({ maxLength: 40, description });
export const RunBody = Type.Object(
  { from: Instant('Start (YYYY-MM-DD or ISO-8601), widened down to a bucket start'), to: Instant('End, exclusive, widened up to a bucket end'), bucket: Type.Optional(Bucket) },
  { additionalProperties: false },
);
export const ListQuery = Type.Object({ from: Instant('Start of the buckets listed'), to: Instant('End, exclusive'), bucket: Type.Optional(Bucket) }, { additionalProperties: false });

const err = (...codes: number[]): Json => Object.fromEntries(codes.map((c) => [String(c), { $ref: `#/components/responses/${c}` }]));
const usd = { type: 'string', description: 'USD, 6 decimals, from integer micro-USD' };
const BUCKET: Json = {
  type: 'object',
  required: ['bucket', 'start', 'end', 'status', 'fal_units', 'ledger_units', 'difference_units', 'difference_usd', 'rows'],
  properties: {
    bucket: { enum: ['hour', 'day'] },
    start: { type: 'string' },
    end: { type: 'string' },
    status: { enum: ['matched', 'difference', 'pending'], description: '`pending`: ended less than RECONCILE_LAG_MS ago, or ledger rows still reserved in it; re-checked next run' },
    note: { type: ['string', 'null'] },
    fal_units: { type: 'number' },
    fal_usd: usd,
    ledger_units: { type: 'number' },
    ledger_usd: usd,
    difference_units: { type: 'number', description: 'fal − ledger' },
    difference_usd: usd,
    rows: {
      type: 'array',
      description: 'Ledger rows that explain a difference (or that keep a bucket pending, or that straddled its boundary)',
      items: {
        type: 'object',
        properties: {
          ledger_id: { type: 'string' },
          fal_request_id: { type: ['string', 'null'] },
          reason: { enum: ['units_equal_difference', 'unverified', 'recovered', 'overrun', 'reserved', 'released', 'boundary'] },
          billed_units: { type: ['number', 'null'] },
          settled_usd: { type: ['string', 'null'] },
        },
      },
    },
    checked_at: { type: 'string' },
  },
};
const DAY: Json = {
  type: 'object',
  properties: { day: { type: 'string' }, status: { enum: ['matched', 'difference', 'pending'] }, buckets: { type: 'integer' }, differences: { type: 'integer' }, pending: { type: 'integer' }, difference_units: { type: 'number' }, difference_usd: usd },
};
const ok = (description: string, properties: Json): Json => ({ description, content: { 'application/json': { schema: { type: 'object', properties } } } });
const SECURITY = [{ adminToken: [] }];

export function reconciliationPaths(): Json {
  return {
    '/admin/reconciliation/run': {
      post: {
        tags: ['admin'],
        operationId: 'runReconciliation',
        summary: "Compare the ledger with fal's usage API per bucket and record the result (a re-run replaces it)",
        description:
          'Needs FAL_ADMIN_KEY (an ADMIN-scope fal key). One run at a time across instances, the CLI and the scheduled job: 409 `conflict` while another is in progress. Recorded in the audit log as `reconciliation.run`. A new difference raises the `reconciliation_difference` operator alert.',
        security: SECURITY,
        // Plain JSON (TypeBox adds symbol keys the document must not carry).
        requestBody: { required: true, content: { 'application/json': { schema: JSON.parse(JSON.stringify(RunBody)) as Json } } },
        responses: {
          '200': ok('Per-bucket result and a per-day roll-up.', { from: { type: 'string' }, to: { type: 'string' }, bucket: { enum: ['hour', 'day'] }, matched: { type: 'integer' }, differences: { type: 'integer' }, pending: { type: 'integer' }, buckets: { type: 'array', items: BUCKET }, days: { type: 'array', items: DAY } }),
          // 409 conflict: FAL_ADMIN_KEY is not set, or another run is in progress; 502: fal refused the admin key (no ADMIN scope) or
          // answered badly; 503: fal kept answering 429; 504: fal did not answer in time.
          ...err(400, 401, 403, 409, 429, 502, 503, 504),
        },
      },
    },
    '/admin/reconciliation': {
      get: {
        tags: ['admin'],
        operationId: 'listReconciliation',
        summary: 'What reconciliation recorded per bucket and per UTC day (admin and viewer)',
        security: SECURITY,
        parameters: [
          { name: 'from', in: 'query', required: true, schema: { type: 'string' } },
          { name: 'to', in: 'query', required: true, schema: { type: 'string' } },
          { name: 'bucket', in: 'query', required: false, schema: { enum: ['hour', 'day'] } },
        ],
        responses: { '200': ok('Stored buckets, oldest first, and the per-day roll-up.', { configured: { type: 'boolean', description: 'FAL_ADMIN_KEY is set: the gateway can reconcile' }, from: { type: 'string' }, to: { type: 'string' }, buckets: { type: 'array', items: BUCKET }, days: { type: 'array', items: DAY } }), ...err(400, 401, 403, 429) },
      },
    },
  };
}

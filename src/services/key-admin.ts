/**
 * Key administration, shared by the admin API and the CLI so both behave the same.
 * Inputs use the public (snake_case, USD) vocabulary; storage uses micro-USD.
 */
import { Type, type Static } from '@sinclair/typebox';
import { displayPrefix, generateKeyId, generatePublishableKey, generateSecretKey, hashKey } from '../domain/keys.js';
import type { KeyPolicy } from '../domain/policy.js';
import { isOrigin } from '../domain/tokens.js';
import { microToUsdNumber, usdToMicro } from '../domain/pricing.js';
import { GatewayError } from '../errors.js';
import type { HardDeleteResult, KeyPatch, KeyRecord, KeyStore } from '../store/key-store.js';
import { recordAdminAction, type AuditContext } from './audit.js';
import { checkInput } from './input-check.js';

const Name = Type.String({ minLength: 1, maxLength: 100 });
/** A team name, for keys and for PUT /admin/teams/:name alike (one rule, so every key's team can be given budgets). */
export const TEAM_NAME = /^[\w.-]{1,100}$/;
/** Bounds on `metadata`: it rides along in every cached key, so it stays small. */
export const METADATA_MAX_BYTES = 4096;
const Limits = {
  owner: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 200 }), Type.Null()], { description: 'Who the key is for' })),
  metadata: Type.Optional(Type.Union([Type.Record(Type.String({ maxLength: 100 }), Type.Unknown(), { maxProperties: 50 }), Type.Null()], { description: `A JSON object of at most ${METADATA_MAX_BYTES} bytes` })),
  expires_at: Type.Optional(Type.Union([Type.String({ minLength: 10, maxLength: 40 }), Type.Null()], { description: 'ISO-8601 time after which the key gets 401; null = never' })),
  team: Type.Optional(Type.Union([Type.String({ pattern: TEAM_NAME.source, description: 'Letters, digits, _ . - (1 to 100)' }), Type.Null()])),
  budget_usd: Type.Optional(Type.Union([Type.Number({ minimum: 0, maximum: 1e9 }), Type.Null()], { description: 'Lifetime budget in USD' })),
  budget_daily_usd: Type.Optional(Type.Union([Type.Number({ minimum: 0, maximum: 1e9 }), Type.Null()], { description: 'Budget per UTC day in USD' })),
  budget_monthly_usd: Type.Optional(Type.Union([Type.Number({ minimum: 0, maximum: 1e9 }), Type.Null()], { description: 'Budget per UTC month in USD' })),
  rpm: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 1_000_000 }), Type.Null()])),
  max_concurrency: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 10_000 }), Type.Null()])),
  allowed_webhook_urls: Type.Optional(Type.Array(Type.String({ minLength: 9, maxLength: 2048 }), { maxItems: 50 })),
  allowed_origins: Type.Optional(Type.Array(Type.String({ maxLength: 200 }), { maxItems: 50, description: 'Browser origins this key may be used from' })),
  policy: Type.Optional(
    Type.Union([
      Type.Object(
        {
          max_megapixels_per_image: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 200 })),
          max_num_images: Type.Optional(Type.Integer({ minimum: 1, maximum: 4 })),
          allowed_image_sizes: Type.Optional(Type.Array(Type.Union(['square_hd', 'square', 'portrait_4_3', 'portrait_16_9', 'landscape_4_3', 'landscape_16_9', 'custom'].map((s) => Type.Literal(s))), { minItems: 1 })),
          require_safety_checker: Type.Optional(Type.Boolean()),
          max_prompt_length: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
        },
        { additionalProperties: false },
      ),
      Type.Null(),
    ]),
  ),
};

export const CreateKeyBody = Type.Object(
  { name: Name, kind: Type.Optional(Type.Union([Type.Literal('secret'), Type.Literal('publishable')], { description: 'publishable: usable only from allowed_origins; for demos' })), ...Limits },
  { additionalProperties: false },
);
export const UpdateKeyBody = Type.Object({ name: Type.Optional(Name), ...Limits }, { additionalProperties: false, minProperties: 1 });
export type CreateKeyInput = Static<typeof CreateKeyBody>;
export type UpdateKeyInput = Static<typeof UpdateKeyBody>;

/** The JSON view of a key. Never contains the secret or its hash. */
export interface KeyView {
  id: string;
  name: string;
  team: string | null;
  kind: string;
  prefix: string;
  budget_usd: number | null;
  budget_daily_usd: number | null;
  budget_monthly_usd: number | null;
  rpm: number | null;
  max_concurrency: number | null;
  allowed_webhook_urls: string[];
  allowed_origins: string[];
  policy: PolicyView | null;
  owner: string | null;
  metadata: Record<string, unknown> | null;
  expires_at: string | null;
  /** After a rotation with a grace period: until when the replaced secret still works. */
  previous_secret_expires_at: string | null;
  created_at: string;
  revoked_at: string | null;
}

export function keyView(k: KeyRecord): KeyView {
  return {
    id: k.id,
    name: k.name,
    team: k.team,
    kind: k.kind,
    prefix: k.prefix,
    budget_usd: usdOrNull(k.budgetMicroUsd),
    budget_daily_usd: usdOrNull(k.budgetDailyMicroUsd),
    budget_monthly_usd: usdOrNull(k.budgetMonthlyMicroUsd),
    rpm: k.rpm,
    max_concurrency: k.maxConcurrency,
    allowed_webhook_urls: k.allowedWebhookUrls,
    allowed_origins: k.allowedOrigins,
    policy: policyView(k.policy),
    owner: k.owner,
    metadata: k.metadata,
    expires_at: k.expiresAt,
    previous_secret_expires_at: k.previousSecretUntil,
    created_at: k.createdAt,
    revoked_at: k.revokedAt,
  };
}

/** Webhook prefixes must be https URLs without credentials: fal POSTs results there. */
export function invalidWebhookPrefixes(urls: readonly string[]): string[] {
  return urls.filter((u) => {
    try {
      const p = new URL(u);
      return p.protocol !== 'https:' || p.username !== '' || p.password !== '' || p.hash !== '';
    } catch {
      return true;
    }
  });
}

/** Problems with origin settings: every entry an exact origin; a publishable key needs at least one. */
export function originProblems(kind: 'secret' | 'publishable', origins: readonly string[] | undefined): string | null {
  if (!(origins ?? []).every(isOrigin)) return 'allowed_origins must be exact origins like https://app.example.com';
  if (kind === 'publishable' && (origins ?? []).length === 0) return 'a publishable key needs allowed_origins';
  return null;
}

/**
 * Checks the schema cannot express, for the API and the CLI alike: metadata's size and a valid
 * expiry time (normalised to ISO-8601 UTC). Throws `bad_request`.
 */
export function checkLifecycle(input: Pick<CreateKeyInput, 'metadata' | 'expires_at' | 'owner'>): { expiresAt?: string | null } {
  if (input.metadata != null && (typeof input.metadata !== 'object' || Array.isArray(input.metadata) || Buffer.byteLength(JSON.stringify(input.metadata)) > METADATA_MAX_BYTES)) {
    throw new GatewayError('bad_request', `metadata must be a JSON object of at most ${METADATA_MAX_BYTES} bytes`);
  }
  if (typeof input.owner === 'string' && (input.owner.length === 0 || input.owner.length > 200)) throw new GatewayError('bad_request', 'owner must be 1 to 200 characters');
  if (input.expires_at === undefined) return {};
  if (input.expires_at === null) return { expiresAt: null };
  return { expiresAt: parseExpiry(input.expires_at) };
}

/** An ISO-8601 time with a date and a time (`2027-01-01T00:00:00Z`) as ISO UTC text. */
export function parseExpiry(raw: string): string {
  const ms = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(raw) ? Date.parse(raw) : NaN;
  if (!Number.isFinite(ms)) throw new GatewayError('bad_request', 'expires_at must be an ISO-8601 time such as 2027-01-01T00:00:00Z');
  return new Date(ms).toISOString();
}

/** Whether a key has expired at `now`: a key expiring at T fails from T on. */
export function isExpired(k: Pick<KeyRecord, 'expiresAt'>, now: Date): boolean {
  return k.expiresAt !== null && Date.parse(k.expiresAt) <= now.getTime();
}

export const DEFAULT_GRACE_SECONDS = 3600;
export const MAX_GRACE_SECONDS = 30 * 86_400;
export const RotateKeyBody = Type.Object(
  { grace_seconds: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_GRACE_SECONDS, description: `How long the old secret keeps working (default ${DEFAULT_GRACE_SECONDS}; 0 = stops at once)` })) },
  { additionalProperties: false },
);

/**
 * A new secret for the same key id: history, budgets and counters stay with the id. The old secret
 * works for `graceSeconds` more (0 = not at all), then gets 401. Throws not_found / bad_request.
 */
export async function rotateKey(keys: KeyStore, id: string, graceSeconds: number | undefined, now: Date, audit: AuditContext): Promise<{ record: KeyRecord; secret: string }> {
  const grace = graceSeconds ?? DEFAULT_GRACE_SECONDS;
  if (!Number.isInteger(grace) || grace < 0 || grace > MAX_GRACE_SECONDS) throw new GatewayError('bad_request', `grace_seconds must be a whole number from 0 to ${MAX_GRACE_SECONDS}`);
  const current = await keys.get(id);
  if (current === null) throw new GatewayError('not_found', 'No such key');
  if (current.revokedAt !== null) throw new GatewayError('conflict', 'A revoked key cannot be rotated');
  const secret = current.kind === 'publishable' ? generatePublishableKey() : generateSecretKey();
  const graceUntil = grace === 0 ? null : new Date(now.getTime() + grace * 1000).toISOString();
  const record = await keys.rotate(id, { hash: hashKey(secret), prefix: displayPrefix(secret), graceUntil });
  if (record === null) throw new GatewayError('conflict', 'A revoked key cannot be rotated');
  await recordAdminAction(audit, { action: 'key.rotate', target: id, before: keyView(current), after: keyView(record) }, now);
  return { record, secret };
}

/** Deletes a key that never reached the ledger; a key with history can only be revoked. */
export async function hardDeleteKey(keys: KeyStore, id: string, now: Date, audit: AuditContext): Promise<void> {
  const before = await keys.get(id);
  const result: HardDeleteResult = await keys.hardDelete(id);
  if (result === 'not_found') throw new GatewayError('not_found', 'No such key');
  if (result === 'has_ledger_rows') {
    throw new GatewayError('conflict', 'This key has ledger rows (its spending history), so it cannot be deleted; revoke it instead (DELETE without hard=true)');
  }
  await recordAdminAction(audit, { action: 'key.delete', target: id, before: before && keyView(before), after: null }, now);
}

/**
 * Every check on a key's settings, for the API and the CLI alike (throws `bad_request`): the
 * schema, then what it cannot express (webhook prefixes, origins against the key's kind).
 */
function checkKeySettings(input: UpdateKeyInput | CreateKeyInput, kind: 'secret' | 'publishable', origins: readonly string[] | undefined): void {
  if (invalidWebhookPrefixes(input.allowed_webhook_urls ?? []).length > 0) throw new GatewayError('bad_request', 'allowed_webhook_urls must be https URLs without credentials');
  const originProblem = originProblems(kind, origins);
  if (originProblem) throw new GatewayError('bad_request', originProblem);
}

/** `audit` records the action (every admin caller passes it; the demo's seed key has no actor). */
export async function createKey(keys: KeyStore, input: CreateKeyInput, now: Date, audit?: AuditContext): Promise<{ record: KeyRecord; secret: string }> {
  checkInput(CreateKeyBody, input);
  const kind = input.kind ?? 'secret';
  checkKeySettings(input, kind, input.allowed_origins);
  const { expiresAt } = checkLifecycle(input);
  const secret = kind === 'publishable' ? generatePublishableKey() : generateSecretKey();
  const record = await keys.create({
    id: generateKeyId(),
    name: input.name,
    team: input.team ?? null,
    kind,
    hash: hashKey(secret),
    prefix: displayPrefix(secret),
    budgetMicroUsd: microOrNull(input.budget_usd),
    budgetDailyMicroUsd: microOrNull(input.budget_daily_usd),
    budgetMonthlyMicroUsd: microOrNull(input.budget_monthly_usd),
    rpm: input.rpm ?? null,
    maxConcurrency: input.max_concurrency ?? null,
    allowedWebhookUrls: input.allowed_webhook_urls ?? [],
    allowedOrigins: input.allowed_origins ?? [],
    policy: toPolicy(input.policy),
    owner: input.owner ?? null,
    metadata: input.metadata ?? null,
    expiresAt: expiresAt ?? null,
    createdAt: now.toISOString(),
  });
  if (audit) await recordAdminAction(audit, { action: 'key.create', target: record.id, before: null, after: keyView(record) }, now);
  return { record, secret };
}

/** Checks and applies a change and records it; null when no such key. Throws `bad_request`. */
export async function updateKey(keys: KeyStore, id: string, input: UpdateKeyInput, now: Date, audit: AuditContext): Promise<KeyRecord | null> {
  checkInput(UpdateKeyBody, input);
  const before = await keys.get(id);
  if (!before) return null;
  checkKeySettings(input, before.kind, input.allowed_origins ?? before.allowedOrigins);
  const after = await keys.update(id, toPatch(input));
  if (after) await recordAdminAction(audit, { action: 'key.update', target: id, before: keyView(before), after: keyView(after) }, now);
  return after;
}

/** Revokes and records it; null when no such key. */
export async function revokeKey(keys: KeyStore, id: string, now: Date, audit: AuditContext): Promise<KeyRecord | null> {
  const before = await keys.get(id);
  if (!before) return null;
  const after = await keys.revoke(id, now.toISOString());
  if (after) await recordAdminAction(audit, { action: 'key.revoke', target: id, before: keyView(before), after: keyView(after) }, now);
  return after;
}

/** The store patch for an update; runs the same lifecycle checks as create (throws bad_request). */
export function toPatch(input: UpdateKeyInput): KeyPatch {
  const patch: KeyPatch = {};
  const { expiresAt } = checkLifecycle(input);
  if (expiresAt !== undefined) patch.expiresAt = expiresAt;
  if (input.owner !== undefined) patch.owner = input.owner;
  if (input.metadata !== undefined) patch.metadata = input.metadata;
  if (input.name !== undefined) patch.name = input.name;
  if (input.team !== undefined) patch.team = input.team;
  if (input.budget_usd !== undefined) patch.budgetMicroUsd = microOrNull(input.budget_usd);
  if (input.budget_daily_usd !== undefined) patch.budgetDailyMicroUsd = microOrNull(input.budget_daily_usd);
  if (input.budget_monthly_usd !== undefined) patch.budgetMonthlyMicroUsd = microOrNull(input.budget_monthly_usd);
  if (input.rpm !== undefined) patch.rpm = input.rpm;
  if (input.max_concurrency !== undefined) patch.maxConcurrency = input.max_concurrency;
  if (input.allowed_webhook_urls !== undefined) patch.allowedWebhookUrls = input.allowed_webhook_urls;
  if (input.allowed_origins !== undefined) patch.allowedOrigins = input.allowed_origins;
  if (input.policy !== undefined) patch.policy = toPolicy(input.policy);
  return patch;
}

export function usdOrNull(micro: number | null): number | null {
  return micro === null ? null : microToUsdNumber(micro);
}

export function microOrNull(usd: number | null | undefined): number | null {
  return usd == null ? null : usdToMicro(usd);
}

interface PolicyView {
  max_megapixels_per_image?: number;
  max_num_images?: number;
  allowed_image_sizes?: string[];
  require_safety_checker?: boolean;
  max_prompt_length?: number;
}

function toPolicy(p: PolicyView | null | undefined): KeyPolicy | null {
  if (p == null) return null;
  const out: KeyPolicy = {};
  if (p.max_megapixels_per_image !== undefined) out.maxMegapixelsPerImage = p.max_megapixels_per_image;
  if (p.max_num_images !== undefined) out.maxNumImages = p.max_num_images;
  if (p.allowed_image_sizes !== undefined) out.allowedImageSizes = p.allowed_image_sizes;
  if (p.require_safety_checker !== undefined) out.requireSafetyChecker = p.require_safety_checker;
  if (p.max_prompt_length !== undefined) out.maxPromptLength = p.max_prompt_length;
  return out;
}

function policyView(p: KeyPolicy | null): PolicyView | null {
  if (p === null) return null;
  const out: PolicyView = {};
  if (p.maxMegapixelsPerImage !== undefined) out.max_megapixels_per_image = p.maxMegapixelsPerImage;
  if (p.maxNumImages !== undefined) out.max_num_images = p.maxNumImages;
  if (p.allowedImageSizes !== undefined) out.allowed_image_sizes = p.allowedImageSizes;
  if (p.requireSafetyChecker !== undefined) out.require_safety_checker = p.requireSafetyChecker;
  if (p.maxPromptLength !== undefined) out.max_prompt_length = p.maxPromptLength;
  return out;
}

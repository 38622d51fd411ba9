/**
 * Key administration, shared by the admin API and the CLI so both behave the same.
 * Inputs use the public (snake_case, USD) vocabulary; storage uses micro-USD.
 */
import { Type, type Static } from '@sinclair/typebox';
import { displayPrefix, generateKeyId, generateSecretKey, hashKey } from '../domain/keys.js';
import { microToUsdNumber, usdToMicro } from '../domain/pricing.js';
import type { KeyPatch, KeyRecord, KeyStore } from '../store/key-store.js';

const Name = Type.String({ minLength: 1, maxLength: 100 });
const Limits = {
  team: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 100 }), Type.Null()])),
  budget_usd: Type.Optional(Type.Union([Type.Number({ minimum: 0, maximum: 1e9 }), Type.Null()], { description: 'Lifetime budget in USD' })),
  budget_daily_usd: Type.Optional(Type.Union([Type.Number({ minimum: 0, maximum: 1e9 }), Type.Null()], { description: 'Budget per UTC day in USD' })),
  budget_monthly_usd: Type.Optional(Type.Union([Type.Number({ minimum: 0, maximum: 1e9 }), Type.Null()], { description: 'Budget per UTC month in USD' })),
  rpm: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 1_000_000 }), Type.Null()])),
  max_concurrency: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 10_000 }), Type.Null()])),
  allowed_webhook_urls: Type.Optional(Type.Array(Type.String({ minLength: 9, maxLength: 2048 }), { maxItems: 50 })),
};

export const CreateKeyBody = Type.Object({ name: Name, ...Limits }, { additionalProperties: false });
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
    created_at: k.createdAt,
    revoked_at: k.revokedAt,
  };
}

/** Webhook prefixes must be https URLs without credentials: fal POSTs results there. */
export function invalidWebhookPrefixes(urls: readonly string[]): string[] {
  return urls.filter((u) => {
    try {
      const p = new URL(u);
      return p.protocol !== 'https:' || p.username !== '' || p.password !== '';
    } catch {
      return true;
    }
  });
}

export async function createKey(keys: KeyStore, input: CreateKeyInput, now: Date): Promise<{ record: KeyRecord; secret: string }> {
  const secret = generateSecretKey();
  const record = await keys.create({
    id: generateKeyId(),
    name: input.name,
    team: input.team ?? null,
    kind: 'secret',
    hash: hashKey(secret),
    prefix: displayPrefix(secret),
    budgetMicroUsd: microOrNull(input.budget_usd),
    budgetDailyMicroUsd: microOrNull(input.budget_daily_usd),
    budgetMonthlyMicroUsd: microOrNull(input.budget_monthly_usd),
    rpm: input.rpm ?? null,
    maxConcurrency: input.max_concurrency ?? null,
    allowedWebhookUrls: input.allowed_webhook_urls ?? [],
    createdAt: now.toISOString(),
  });
  return { record, secret };
}

export function toPatch(input: UpdateKeyInput): KeyPatch {
  const patch: KeyPatch = {};
  if (input.name !== undefined) patch.name = input.name;
  if (input.team !== undefined) patch.team = input.team;
  if (input.budget_usd !== undefined) patch.budgetMicroUsd = microOrNull(input.budget_usd);
  if (input.budget_daily_usd !== undefined) patch.budgetDailyMicroUsd = microOrNull(input.budget_daily_usd);
  if (input.budget_monthly_usd !== undefined) patch.budgetMonthlyMicroUsd = microOrNull(input.budget_monthly_usd);
  if (input.rpm !== undefined) patch.rpm = input.rpm;
  if (input.max_concurrency !== undefined) patch.maxConcurrency = input.max_concurrency;
  if (input.allowed_webhook_urls !== undefined) patch.allowedWebhookUrls = input.allowed_webhook_urls;
  return patch;
}

export function usdOrNull(micro: number | null): number | null {
  return micro === null ? null : microToUsdNumber(micro);
}

export function microOrNull(usd: number | null | undefined): number | null {
  return usd == null ? null : usdToMicro(usd);
}

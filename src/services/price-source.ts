/**
 * Where a new quote's price comes from (PRICE_SOURCE): `config` is PRICE_PER_MEGAPIXEL_USD; `fal`
 * reads this endpoint's price and unit from fal's pricing API (docs/fal-protocol.md §4.1) at start
 * and every PRICE_REFRESH_MS, stores it in the shared database (one row), and every instance reads
 * that row at most every PRICE_CACHE_MS for its quotes, so a change reaches every instance's new
 * quotes within one refresh plus PRICE_CACHE_MS. A row in flight keeps the price it was reserved at
 * (LedgerRow.unitPriceMicro).
 *
 * Only per-megapixel prices are understood (the quote logic counts megapixels): a unit other than
 * "megapixels" / "megapixel" / "mp" refuses the start (PriceUnitError); seen later, on a refresh,
 * it is logged and the last good price kept. fal unreachable at start: the database's last price,
 * else PRICE_PER_MEGAPIXEL_USD, with a warning.
 */
import type { FastifyBaseLogger } from 'fastify';
import { MODEL_ID } from '../domain/model.js';
import { MAX_MICRO_USD_PER_MEGAPIXEL } from '../domain/pricing.js';
import type { PriceStore } from '../store/price-store.js';
import type { FalPlatform } from '../upstream/fal-platform.js';

export interface PriceProvider {
  /** µUSD per megapixel for a new quote. */
  current(): Promise<number>;
  /** The last price this instance used, without I/O (rows reserved before rows carried a price). */
  lastKnown(): number;
}

/** How long an instance reuses the database's price before reading it again. */
export const PRICE_CACHE_MS = 2_000;
const UNDERSTOOD_UNITS = new Set(['megapixels', 'megapixel', 'mp']);

export class PriceUnitError extends Error {
  constructor(unit: string) {
    super(`fal prices ${MODEL_ID} per "${unit}", which the gateway's quotes do not understand (they count megapixels); set PRICE_SOURCE=config and PRICE_PER_MEGAPIXEL_USD instead`);
    this.name = 'PriceUnitError';
  }
}

export function configPrice(microUsdPerMegapixel: number): PriceProvider {
  return { current: () => Promise.resolve(microUsdPerMegapixel), lastKnown: () => microUsdPerMegapixel };
}

/**
 * fal's unit_price (USD per unit) → µUSD per megapixel, or a reason it cannot be used. Rounded UP to
 * the µUSD: a price below one µUSD must not become 0, which would let every request through every
 * budget. A price of 0 or less is refused for the same reason (the caller keeps the last good one).
 */
export function priceFromFal(unitPrice: number, unit: string): { micro: number; exact: boolean } {
  if (!UNDERSTOOD_UNITS.has(unit.trim().toLowerCase())) throw new PriceUnitError(unit);
  if (!(unitPrice > 0)) throw new RangeError(`fal's price ${unitPrice} USD per ${unit} is not above zero; a zero price would disable every budget`);
  const { micro, exact } = usdCeilToMicro(unitPrice);
  if (micro > BigInt(MAX_MICRO_USD_PER_MEGAPIXEL)) throw new RangeError(`fal's price ${unitPrice} USD per ${unit} is above the gateway's ceiling`);
  return { micro: Number(micro), exact };
}

/** A positive USD number → µUSD, rounded up, exact from its shortest decimal form (`String(usd)`). */
function usdCeilToMicro(usd: number): { micro: bigint; exact: boolean } {
  const m = /^(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(String(usd));
  if (!m) throw new RangeError(`invalid USD amount: ${String(usd)}`);
  const frac = m[2] ?? '';
  const digits = BigInt(`${m[1] ?? ''}${frac}`);
  const shift = 6 - (frac.length - Number(m[3] ?? '0'));
  if (shift >= 0) return { micro: digits * 10n ** BigInt(shift), exact: true };
  const d = 10n ** BigInt(-shift);
  const rest = digits % d;
  return { micro: digits / d + (rest === 0n ? 0n : 1n), exact: rest === 0n };
}

/** A stored price quotes may use: a whole, positive µUSD amount within the ceiling. */
function usable(micro: number): boolean {
  return Number.isSafeInteger(micro) && micro > 0 && micro <= MAX_MICRO_USD_PER_MEGAPIXEL;
}

export class FalPriceSource implements PriceProvider {
  private cached: { micro: number; at: number };
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: {
      platform: FalPlatform;
      store: PriceStore;
      /** PRICE_PER_MEGAPIXEL_USD: the fallback when fal and the database have no price. */
      fallbackMicro: number;
      refreshMs: number;
      now: () => Date;
      log: FastifyBaseLogger;
      cacheMs?: number;
    },
  ) {
    this.cached = { micro: deps.fallbackMicro, at: -Infinity };
  }

  /** At start: fal's price into the database; throws PriceUnitError on a unit quotes cannot use. */
  async start(): Promise<void> {
    try {
      await this.refresh();
    } catch (err) {
      if (err instanceof PriceUnitError) throw err;
      const found = await this.deps.store.get(MODEL_ID).catch(() => null);
      const stored = found !== null && usable(found.microUsdPerUnit) ? found : null;
      const micro = stored?.microUsdPerUnit ?? this.deps.fallbackMicro;
      this.cached = { micro, at: this.deps.now().getTime() };
      this.deps.log.warn(
        { err: err instanceof Error ? err.message : String(err), micro_usd_per_megapixel: micro, from: stored ? 'database' : 'PRICE_PER_MEGAPIXEL_USD' },
        "price: fal's pricing API could not be read at start; quoting with the last known price",
      );
    }
    this.timer = setInterval(() => void this.refresh().catch((err: unknown) => this.refreshFailed(err)), this.deps.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Reads fal's price and stores it for every instance; throws when fal has none this gateway can use. */
  async refresh(): Promise<void> {
    const price = await this.deps.platform.price();
    if (price === null) throw new Error(`fal's pricing API does not list ${MODEL_ID}`);
    const converted = priceFromFal(price.unitPrice, price.unit);
    if (!converted.exact) this.deps.log.warn({ fal_unit_price: price.unitPrice }, 'price: fal quotes a fraction of a micro-USD per megapixel; rounded up to the next micro-USD');
    const at = this.deps.now();
    await this.deps.store.put({ endpointId: MODEL_ID, unit: price.unit, microUsdPerUnit: converted.micro, falUnitPrice: String(price.unitPrice), fetchedAt: at.toISOString() });
    this.cached = { micro: converted.micro, at: at.getTime() };
  }

  async current(): Promise<number> {
    const t = this.deps.now().getTime();
    if (t - this.cached.at < (this.deps.cacheMs ?? PRICE_CACHE_MS)) return this.cached.micro;
    try {
      const stored = await this.deps.store.get(MODEL_ID);
      if (stored !== null && usable(stored.microUsdPerUnit)) this.cached = { micro: stored.microUsdPerUnit, at: t };
      else if (stored !== null) {
        // Another instance (or a hand edit) stored a price that would disable budgets: never quote with it.
        this.cached = { micro: this.cached.micro, at: t };
        this.deps.log.error({ stored_micro_usd_per_megapixel: stored.microUsdPerUnit, micro_usd_per_megapixel: this.cached.micro }, 'price: the shared price is not a positive micro-USD amount; keeping the last good price');
      }
    } catch (err) {
      // The reservation right after this needs the database too; keep quoting with the last price.
      this.deps.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'price: could not read the shared price; using the last known');
    }
    return this.cached.micro;
  }

  lastKnown(): number {
    return this.cached.micro;
  }

  private refreshFailed(err: unknown): void {
    this.deps.log.error({ err: err instanceof Error ? err.message : String(err), micro_usd_per_megapixel: this.cached.micro }, 'price: refresh from fal failed; keeping the last known price');
  }
}

export interface PriceParts {
  provider: PriceProvider;
  /** Null with PRICE_SOURCE=config. */
  source: FalPriceSource | null;
  /** server.ts: before listening. Throws PriceUnitError when fal's unit cannot be quoted. */
  start(): Promise<void>;
  stop(): void;
}

/** The provider PRICE_SOURCE asks for; `platform` reads the pricing API (any key of the account). */
export function priceParts(source: 'config' | 'fal', deps: ConstructorParameters<typeof FalPriceSource>[0]): PriceParts {
  if (source === 'config') return { provider: configPrice(deps.fallbackMicro), source: null, start: () => Promise.resolve(), stop: () => undefined };
  const fal = new FalPriceSource(deps);
  return { provider: fal, source: fal, start: () => fal.start(), stop: () => fal.stop() };
}

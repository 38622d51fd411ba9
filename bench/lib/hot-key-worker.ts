/**
 * One gateway instance for bench/hot-key.ts: its own Postgres pool on the schema in argv, `conc`
 * reserve + settle loops for one key for `seconds`, started at the epoch ms read from stdin.
 * Prints the number of pairs completed.
 */
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { ReserveInput } from '../../src/store/ledger-store.js';
import { openStores as ownStores } from '../../src/store/stores.js';
import { benchReservation, benchSettlement, forRelease } from './reservation.js';

const [url = '', schema = '', keyId = 'key_hot', secondsText = '3', concText = '8', globalCap = '', storesModule = ''] = process.argv.slice(2);
// Another checkout's stores (bench/hot-key.ts --release=DIR), for before/after in one run.
const openStores = storesModule === '' ? ownStores : ((await import(storesModule)) as { openStores: typeof ownStores }).openStores;
const stores = await openStores(url, { schema, max: Number(concText) });
const lines = createInterface({ input: process.stdin });
console.log('ready');
const [start] = (await once(lines, 'line')) as [string];
await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(start) - Date.now())));

const until = Date.now() + Number(secondsText) * 1000;
let pairs = 0;
let refused = 0;
const inFlightLimits = { key: null, global: globalCap === '' ? null : Number(globalCap) };
const own = (): ReserveInput => benchReservation(keyId, null, { day: 1e15 }, { inFlightLimits, freshLimits: true });
const input = storesModule === '' ? own : () => forRelease(own());
await Promise.all(
  Array.from({ length: Number(concText) }, async () => {
    while (Date.now() < until) {
      const i = input();
      const r = await stores.ledger.reserve(i);
      if (!r.ok) {
        refused++;
        continue;
      }
      await stores.ledger.settle(i.id, benchSettlement());
      pairs++;
    }
  }),
);
console.log(JSON.stringify({ pairs, refused }));
lines.close();
await stores.close();

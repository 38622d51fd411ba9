/**
 * S10: the submit path (S5's call) on Postgres from two gateway instances together — two processes
 * on one database sharing one gateway key, so their reservations contend for the same budget
 * counters as a scaled-out deployment's would — with the load's connections split evenly between
 * them; against one Postgres instance alone with all the connections, and the SQLite gw-prod, in
 * the same run. On the 2-core machine the two instances, Postgres, the sim and the load generator
 * share two cores: the sum says what the store allows there, not what two hosts would do.
 */
import type { Fleet } from '../lib/fleet.js';
import { submitCall } from '../lib/targets.js';
import { splitThroughput, type LoadGroup, type ThroughputRow, type ThroughputSizes } from './throughput.js';

/** The row id of the two instances together. */
export const PG_PAIR = 'gw-pg ×2';

export async function scaleOut(fleet: Fleet, sizes: ThroughputSizes): Promise<ThroughputRow[]> {
  const [pg, pg2, sqlite] = ['gw-pg', 'gw-pg2', 'gw-prod'].map((id) => fleet.byId(id));
  if (pg === undefined || pg2 === undefined) throw new Error('S10 needs gw-pg and gw-pg2 (set BENCH_DATABASE_URL or TEST_DATABASE_URL)');
  const groups: LoadGroup[] = [{ id: PG_PAIR, members: [pg, pg2] }, { id: pg.id, members: [pg] }, ...(sqlite === undefined ? [] : [{ id: sqlite.id, members: [sqlite] }])];
  return splitThroughput(groups, () => [submitCall()], sizes);
}

/** One contract for every TeamStore adapter (SQLite, Postgres; see store-backends.ts). */
import { expect, it } from 'vitest';
import type { TeamRecord } from '../../src/store/team-store.js';
import { describeBackends } from './store-backends.js';

function team(name: string, over: Partial<TeamRecord> = {}): TeamRecord {
  return { name, budgetMicroUsd: null, budgetDailyMicroUsd: null, budgetMonthlyMicroUsd: null, updatedAt: '2026-01-01T00:00:00.000Z', ...over };
}

describeBackends('TeamStore', (fresh) => {
  const make = async () => (await (await fresh()).open()).teams;

  it('returns null for a team that has no limits recorded', async () => {
    expect(await (await make()).get('design')).toBeNull();
  });

  it('creates a team with its limits and returns it', async () => {
    const teams = await make();
    const record = team('design', { budgetMicroUsd: 100_000_000, budgetDailyMicroUsd: 5_000_000, budgetMonthlyMicroUsd: 50_000_000 });
    expect(await teams.upsert(record)).toEqual(record);
    expect(await teams.get('design')).toEqual(record);
  });

  it('replaces every limit on upsert, including setting one back to null', async () => {
    const teams = await make();
    await teams.upsert(team('design', { budgetMicroUsd: 1, budgetDailyMicroUsd: 2, budgetMonthlyMicroUsd: 3 }));
    const replaced = team('design', { budgetDailyMicroUsd: 7, updatedAt: '2026-02-01T00:00:00.000Z' });
    expect(await teams.upsert(replaced)).toEqual(replaced);
    expect(await teams.get('design')).toEqual(replaced);
  });

  it('lists teams by name', async () => {
    const teams = await make();
    for (const name of ['ops', 'Design', 'design', 'a-team']) await teams.upsert(team(name));
    expect((await teams.list()).map((t) => t.name)).toEqual(['Design', 'a-team', 'design', 'ops']);
  });

  it('keeps budgets beyond 32 bits as exact numbers', async () => {
    const teams = await make();
    await teams.upsert(team('big', { budgetMicroUsd: Number.MAX_SAFE_INTEGER, budgetMonthlyMicroUsd: 5_000_000_000_000 }));
    expect(await teams.get('big')).toMatchObject({ budgetMicroUsd: Number.MAX_SAFE_INTEGER, budgetMonthlyMicroUsd: 5_000_000_000_000 });
  });

  it('a second handle on the same database sees the team', async () => {
    const db = await fresh();
    const [first, second] = [(await db.open()).teams, (await db.open()).teams];
    await first.upsert(team('design', { budgetMicroUsd: 9 }));
    expect((await second.get('design'))?.budgetMicroUsd).toBe(9);
  });
});

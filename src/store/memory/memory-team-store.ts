/** In-memory TeamStore: the twin the contract suite and unit tests use. */
import type { TeamRecord, TeamStore } from '../team-store.js';

export class MemoryTeamStore implements TeamStore {
  private readonly teams = new Map<string, TeamRecord>();

  get(name: string): Promise<TeamRecord | null> {
    const team = this.teams.get(name);
    return Promise.resolve(team ? { ...team } : null);
  }

  upsert(team: TeamRecord): Promise<TeamRecord> {
    this.teams.set(team.name, { ...team });
    return Promise.resolve({ ...team });
  }

  list(): Promise<TeamRecord[]> {
    const teams = [...this.teams.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return Promise.resolve(teams.map((t) => ({ ...t })));
  }
}

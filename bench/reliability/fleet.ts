/**
 * Two real gateway processes on one Postgres and one Redis, which the chaos schedule kills
 * (SIGKILL) or stops (SIGTERM) and restarts. Each start is a new generation, so the traffic can
 * tell which answers were in flight on a process when it died.
 */
import { startGatewayProcess, type GatewayProcess } from '../../test/helpers/gateway-process.js';

export interface Slot {
  name: string;
  proc: GatewayProcess | undefined;
  generation: number;
  /** Being killed or stopped: a balancer would route no new call here. */
  stopping: boolean;
}

export class Fleet {
  readonly slots: Slot[];
  private rr = 0;

  constructor(private readonly env: Record<string, string>, count = 2) {
    this.slots = Array.from({ length: count }, (_, i) => ({ name: `gw${i + 1}`, proc: undefined, generation: 0, stopping: false }));
  }

  async start(): Promise<void> {
    await Promise.all(this.slots.map((s) => this.boot(s)));
  }

  /** A live instance, round-robin; undefined while every instance is restarting. */
  pick(): Slot | undefined {
    for (let i = 0; i < this.slots.length; i++) {
      const s = this.slots[(this.rr++) % this.slots.length];
      if (s?.proc !== undefined && !s.stopping) return s;
    }
    return undefined;
  }

  /** Kills (or terminates) one instance, waits for its exit, starts it again. */
  async disrupt(slot: Slot, signal: 'SIGKILL' | 'SIGTERM'): Promise<void> {
    const proc = slot.proc;
    if (proc === undefined) return;
    slot.stopping = true;
    proc.child.kill(signal);
    if (signal === 'SIGKILL') slot.proc = undefined; // a killed process takes no new calls
    await proc.exited;
    slot.proc = undefined;
    await this.boot(slot);
    slot.stopping = false;
  }

  async stop(): Promise<void> {
    await Promise.all(this.slots.map(async (s) => s.proc?.stop()));
  }

  private async boot(slot: Slot): Promise<void> {
    const proc = await startGatewayProcess(this.env);
    slot.generation += 1;
    slot.proc = proc;
  }
}

/**
 * How busy the machine was with work that is not this benchmark's: whole-machine CPU time from
 * /proc/stat minus the CPU time of the harness and its children. Other sessions share these two
 * cores, so every result file records it next to the load average.
 */
import { cpus, loadavg } from 'node:os';
import { readFileSync } from 'node:fs';

export interface Noise {
  loadavg1Start: number;
  loadavg1End: number;
  /** Share of the machine's CPU capacity used by anything during the run. */
  machineBusyShare: number;
  /** Share of the machine's CPU capacity used by processes outside this benchmark. */
  foreignBusyShare: number;
}

const TICK_US = 10_000;

function busyUs(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  // cpu user nice system idle iowait irq softirq steal …
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).slice(1).map(Number);
  return (user + nice + system + irq + softirq + steal) * TICK_US;
}

export class NoiseMeter {
  private readonly startBusy = busyUs();
  private readonly startWall = performance.now();
  private readonly startLoad = loadavg()[0] ?? NaN;
  private readonly startSelf = process.cpuUsage();

  /** `childrenCpuUs`: CPU time of the benchmark's children over their lives (they start after this meter). */
  finish(childrenCpuUs: number): Noise {
    const self = process.cpuUsage(this.startSelf);
    const capacity = (performance.now() - this.startWall) * 1000 * cpus().length;
    const busy = busyUs() - this.startBusy;
    const ours = childrenCpuUs + self.user + self.system;
    return {
      loadavg1Start: this.startLoad,
      loadavg1End: loadavg()[0] ?? NaN,
      machineBusyShare: busy / capacity,
      foreignBusyShare: Math.max(0, busy - ours) / capacity,
    };
  }
}

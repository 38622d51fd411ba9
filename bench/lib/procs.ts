/**
 * Child processes of the benchmark: every server (the simulated fal, each baseline proxy, each
 * gateway variant) runs in its own process so its RSS, fds and CPU time can be read from /proc.
 * Each child loads bench/servers/probe.js first, which answers event-loop delay over IPC.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { pathToFileURL } from 'node:url';

export interface ProcSample {
  /** Resident set size now, MB. */
  rssMb: number;
  /** Peak resident set size since start or the last resetPeak(), MB. */
  hwmMb: number;
  /** Open file descriptors. */
  fds: number;
  /** user + system CPU time of all the process's threads, in µs (10 ms resolution). */
  cpuUs: number;
}

export interface ProbeReading {
  eld: { p50Ms: number; p99Ms: number; maxMs: number };
  mem: { heapUsedMb: number; heapTotalMb: number; externalMb: number; arrayBuffersMb: number };
}

export interface SpawnSpec {
  name: string;
  script: string;
  env: Record<string, string>;
  /** File receiving the child's stdout and stderr (the gateway's pino lines land here). */
  logFile: string;
  probe: string;
  nodeArgs?: string[];
  /** Run under `taskset -c <cpus>`. */
  cpus?: string;
}

const CLOCK_TICK_US = 10_000; // USER_HZ is 100 on Linux: /proc/<pid>/stat counts 10 ms ticks

export class Child {
  private exited = false;
  private readonly exitPromise: Promise<number | null>;

  private constructor(
    readonly name: string,
    private readonly proc: ChildProcess,
    readonly logFile: string,
  ) {
    this.exitPromise = new Promise((resolve) => {
      proc.once('exit', (code) => {
        this.exited = true;
        resolve(code);
      });
    });
  }

  static start(spec: SpawnSpec): Child {
    const fd = openSync(spec.logFile, 'a');
    const nodeArgs = ['--import', pathToFileURL(spec.probe).href, ...(spec.nodeArgs ?? []), spec.script];
    // The harness's own node binary, so children run the same Node version.
    const [cmd, args] = spec.cpus === undefined ? [process.execPath, nodeArgs] : ['taskset', ['-c', spec.cpus, process.execPath, ...nodeArgs]];
    const proc = spawn(cmd, args, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...spec.env }, stdio: ['ignore', fd, fd, 'ipc'] });
    closeSync(fd);
    return new Child(spec.name, proc, spec.logFile);
  }

  get pid(): number {
    const pid = this.proc.pid;
    if (pid === undefined) throw new Error(`${this.name} has no pid (spawn failed)`);
    return pid;
  }

  get alive(): boolean {
    return !this.exited;
  }

  sample(): ProcSample {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
    // Fields after the parenthesised command name: utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${this.pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(rest[11]) + Number(rest[12]);
    return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024, fds: readdirSync(`/proc/${this.pid}/fd`).length, cpuUs: ticks * CLOCK_TICK_US };
  }

  /** Resets VmHWM to the current RSS (Linux ≥ 4.0, `clear_refs` value 5); false if not allowed. */
  resetPeak(): boolean {
    try {
      writeFileSync(`/proc/${this.pid}/clear_refs`, '5');
      return true;
    } catch {
      return false;
    }
  }

  /** Event-loop delay since the previous call (the probe resets its histogram on every answer), and heap. */
  probe(timeoutMs = 2000): Promise<ProbeReading | null> {
    if (!this.alive || !this.proc.connected) return Promise.resolve(null);
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(null), timeoutMs);
      const onMessage = (msg: unknown): void => {
        if (isProbe(msg)) done(msg.probe);
      };
      const done = (v: ProbeReading | null): void => {
        clearTimeout(timer);
        this.proc.off('message', onMessage);
        resolve(v);
      };
      this.proc.on('message', onMessage);
      this.proc.send('probe');
    });
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.exited) return;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    await this.exitPromise;
    clearTimeout(timer);
  }

  /** Resolves with the exit code, for a process expected to exit by itself. */
  exit(): Promise<number | null> {
    return this.exitPromise;
  }

  tail(lines = 20): string {
    try {
      return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }
}

function isProbe(msg: unknown): msg is { probe: ProbeReading } {
  return typeof msg === 'object' && msg !== null && 'probe' in msg;
}

/** A TCP port that was free a moment ago (the usual bind-to-0-then-close race is fine on loopback). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Polls `url` until it answers with any HTTP status; throws with the child's log tail on timeout. */
export async function waitHttp(child: Child, url: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!child.alive) throw new Error(`${child.name} exited during start-up:\n${child.tail()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`${child.name} did not answer ${url} within ${timeoutMs} ms:\n${child.tail()}`);
}

/**
 * Throwaway Redis and PostgreSQL servers on their own loopback ports, for outage tests: they are
 * stopped, frozen and restarted inside a test (never the shared 5432 / 6379).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface ThrowawayRedis {
  url: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** SIGSTOP (true) or SIGCONT (false): a Redis that accepts connections and never answers. */
  freeze(on: boolean): void;
}

export async function throwawayRedis(): Promise<ThrowawayRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const r: ThrowawayRedis = {
    url: `redis://127.0.0.1:${port}`,
    async start() {
      const c = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'inherit'] });
      child = c;
      await new Promise<void>((resolve, reject) => {
        let out = '';
        c.stdout?.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('Ready to accept connections')) resolve();
        });
        c.once('exit', () => reject(new Error(`redis-server exited: ${out}`)));
      });
    },
    async stop() {
      const c = child;
      child = undefined;
      if (!c || c.exitCode !== null) return;
      const exited = new Promise((resolve) => c.once('exit', resolve));
      c.kill('SIGKILL');
      await exited;
    },
    freeze(on) {
      child?.kill(on ? 'SIGSTOP' : 'SIGCONT');
    },
  };
  await r.start();
  return r;
}

export interface ThrowawayPostgres {
  url: string;
  start(): void;
  stop(): void;
  /** SIGSTOP (true) or SIGCONT (false) the server and all its backends: a frozen database. */
  freeze(on: boolean): void;
  destroy(): void;
}

const PG_BIN = '/usr/lib/postgresql/15/bin';
const asPostgres = (cmd: string) => execFileSync('su', ['postgres', '-c', cmd], { stdio: 'pipe' });

/** initdb as user postgres in a temp dir (the tests run as root, which Postgres refuses). */
export async function throwawayPostgres(): Promise<ThrowawayPostgres> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'fgw-pg-'));
  chmodSync(dir, 0o777);
  const data = join(dir, 'data');
  asPostgres(`${PG_BIN}/initdb -D ${data} -A trust -U postgres >/dev/null`);
  const pids = (): number[] => {
    const main = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const kids = execFileSync('pgrep', ['-P', String(main)]).toString().split('\n').filter(Boolean).map(Number);
    return [main, ...kids];
  };
  const p: ThrowawayPostgres = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start() {
      asPostgres(`${PG_BIN}/pg_ctl -D ${data} -w -l ${dir}/log -o "-p ${port} -k ${dir} -c listen_addresses=127.0.0.1" start >/dev/null`);
    },
    stop() {
      asPostgres(`${PG_BIN}/pg_ctl -D ${data} -w -m immediate stop >/dev/null`);
    },
    freeze(on) {
      for (const pid of pids()) process.kill(pid, on ? 'SIGSTOP' : 'SIGCONT');
    },
    destroy() {
      try {
        p.stop();
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  p.start();
  return p;
}

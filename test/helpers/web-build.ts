/**
 * Builds the console and playground (web/ → dist/web) for tests that load them, unless the build is
 * newer than every file under web/. `npm run build` does the same for a release; this lets `npm test`
 * work on a fresh clone without it. One build per process; concurrent test files wait on a lock
 * directory so two processes never write dist/web at once.
 */
import { mkdir, readdir, rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WEB = join(ROOT, 'web');
const STAMP = join(ROOT, 'dist/web/console/index.html');
const LOCK = join(ROOT, 'dist/.web-build-lock');

async function newest(dir: string): Promise<number> {
  let max = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    max = Math.max(max, entry.isDirectory() ? await newest(p) : (await stat(p)).mtimeMs);
  }
  return max;
}

async function fresh(): Promise<boolean> {
  try {
    return (await stat(STAMP)).mtimeMs >= (await newest(WEB));
  } catch {
    return false;
  }
}

let once: Promise<void> | undefined;

export function ensureWebBuild(): Promise<void> {
  once ??= (async () => {
    if (await fresh()) return;
    await mkdir(join(ROOT, 'dist'), { recursive: true });
    for (;;) {
      try {
        await mkdir(LOCK);
        break;
      } catch {
        // A lock left by a process that died mid-build is taken over after a minute.
        const age = await stat(LOCK).then((s) => Date.now() - s.mtimeMs, () => 0);
        if (age > 60_000) await rmdir(LOCK).catch(() => undefined);
        await sleep(200);
        if (await fresh()) return;
      }
    }
    try {
      if (await fresh()) return;
      const { build } = await import('vite');
      await build({ configFile: join(WEB, 'vite.config.ts'), logLevel: 'warn' });
    } finally {
      await rmdir(LOCK);
    }
  })();
  return once;
}

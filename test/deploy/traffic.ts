/** Light, bounded background traffic for the deploy tests, and a bounded wait. */

export interface Sent {
  startedAt: number;
  status: number;
}

/**
 * Runs `workers` sequential request loops while `during` runs, and returns every request's
 * outcome. Bounded: the loops stop when `during` settles.
 */
export async function trafficUntil(workers: number, send: () => Promise<number>, during: () => Promise<void>): Promise<Sent[]> {
  const results: Sent[] = [];
  let stop = false;
  const loop = async () => {
    while (!stop) {
      const startedAt = Date.now();
      results.push({ startedAt, status: await send() });
    }
  };
  const loops = Array.from({ length: workers }, loop);
  try {
    await during();
  } finally {
    stop = true;
    await Promise.all(loops);
  }
  return results;
}

export async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

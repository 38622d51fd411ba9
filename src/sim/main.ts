/**
 * Runs the simulated fal as its own process (`node dist/sim/main.js`, `npm run sim`) for the demo
 * and for benchmarks that steer it over `/_sim/*`. Env is read here, at start, not at import.
 *
 *   SIM_HOST (127.0.0.1) · SIM_RUN_PORT (8788) · SIM_QUEUE_PORT (8789) · SIM_API_PORT (8790)
 *   SIM_FAL_KEY (sim-key) · SIM_ADMIN_KEY (sim-admin-key) · SIM_LATENCY_MS (50)
 */
import { startFalSim, type SimFaults } from './fal-sim.js';

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
  return n;
}

async function main(): Promise<void> {
  const faults: Partial<SimFaults> = { latencyMs: intFromEnv('SIM_LATENCY_MS', 50) };
  const sim = await startFalSim({
    falKey: process.env.SIM_FAL_KEY ?? 'sim-key',
    host: process.env.SIM_HOST ?? '127.0.0.1',
    runPort: intFromEnv('SIM_RUN_PORT', 8788),
    queuePort: intFromEnv('SIM_QUEUE_PORT', 8789),
    apiPort: intFromEnv('SIM_API_PORT', 8790),
    adminKey: process.env.SIM_ADMIN_KEY ?? 'sim-admin-key',
    faults,
  });
  console.log(`fal-sim run   (plays https://fal.run):       ${sim.runUrl}`);
  console.log(`fal-sim queue (plays https://queue.fal.run): ${sim.queueUrl}`);
  console.log(`fal-sim api   (plays https://api.fal.ai):    ${sim.apiUrl}/v1/models/{usage,pricing}`);
  console.log(`fal-sim webhook keys (JWKS):                ${sim.jwksUrl}`);
  console.log(`fal-sim control: ${sim.runUrl}/_sim/{stats,calls,faults,reset,pricing,bill-twice,webhooks}`);

  let closing = false;
  const shutdown = (signal: string): void => {
    if (closing) return;
    closing = true;
    console.log(`fal-sim: ${signal}, closing`);
    sim.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  console.error('fal-sim failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});

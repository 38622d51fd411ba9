/**
 * `npm run demo`: the whole gateway against the built-in simulated fal, with embedded defaults.
 * Starts the simulated fal on loopback, the gateway (SQLite under ./data), creates a demo key and
 * prints a curl that works as printed. No fal account and no network needed.
 */
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { loadConfig } from './config.js';
import { loggerOptions } from './logger.js';
import { mintOneTimeSignIn } from './services/console-sessions.js';
import { createKey } from './services/key-admin.js';
import { handleSignals, startGateway } from './server.js';
import { startFalSim } from './sim/fal-sim.js';

async function demo(): Promise<void> {
  const env = process.env;
  // The simulated fal gets a throwaway key: the demo never holds a real one.
  const falKey = `sim_${randomBytes(12).toString('hex')}`;
  const sim = await startFalSim({
    falKey,
    runPort: Number(env.SIM_RUN_PORT ?? 8788),
    queuePort: Number(env.SIM_QUEUE_PORT ?? 8789),
    faults: { latencyMs: Number(env.SIM_LATENCY_MS ?? 1500) },
  });
  const adminToken = env.ADMIN_TOKEN ?? `adm_${randomBytes(16).toString('hex')}`;
  const config = loadConfig(
    {
      ...env,
      FAL_KEY: falKey,
      FAL_RUN_URL: sim.runUrl,
      FAL_QUEUE_URL: sim.queueUrl,
      ADMIN_TOKEN: adminToken,
      DATABASE_URL: env.DATABASE_URL ?? 'sqlite:./data/demo.db',
      LOG_LEVEL: env.LOG_LEVEL ?? 'warn',
    },
    { demo: true },
  );
  const logger = pino(loggerOptions(config.logLevel));
  const gateway = await startGateway(config, logger);
  const { record, secret } = await createKey(gateway.stores.keys, { name: 'demo', budget_usd: 5 }, new Date());
  const base = gateway.url.replace('[::1]', 'localhost');
  const signIn = await mintOneTimeSignIn(gateway.stores, new Date());

  console.log(`
fal-gateway demo is running.
  gateway        ${base}          (docs: ${base}/docs)
  simulated fal  ${sim.runUrl} (sync) and ${sim.queueUrl} (queue)
  demo key       ${record.id} (budget $5)
  console        ${base}/console
  sign-in code   ${signIn.code}   (paste it into the console's sign-in form; works once, until ${signIn.expiresAt})

Generate an image (the response lists its URL; open it in a browser):

curl -s ${base}/fal-ai/stable-diffusion-v35-medium \\
  -H 'Authorization: Key ${secret}' \\
  -H 'Content-Type: application/json' \\
  -d '{"prompt": "a lighthouse at dusk, oil painting", "image_size": "square_hd", "seed": 42}'

Admin API (list keys):

curl -s ${base}/admin/keys -H 'Authorization: Bearer ${adminToken}'

Press Ctrl+C to stop.
`);
  handleSignals(
    {
      ...gateway,
      close: async () => {
        await gateway.close();
        await sim.close();
      },
    },
    config,
    logger,
  );
}

demo().catch((err: unknown) => {
  console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});

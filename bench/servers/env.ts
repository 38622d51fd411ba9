/** Settings the harness passes to the baseline servers (the gateway reads its own config). */
export interface BaselineEnv {
  port: number;
  /** Plays https://fal.run (sync runs). */
  runUrl: URL;
  /** Plays https://queue.fal.run; reached under the `/queue` path prefix, as on the gateway. */
  queueUrl: URL;
  /** Sent upstream as `Authorization: Key …`, as every real proxy adds the server's fal key. */
  falKey: string;
}

export function baselineEnv(): BaselineEnv {
  const need = (name: string): string => {
    const v = process.env[name];
    if (v === undefined || v === '') throw new Error(`${name} is required`);
    return v;
  };
  return {
    port: Number(need('BENCH_PORT')),
    runUrl: new URL(need('BENCH_RUN_URL')),
    queueUrl: new URL(need('BENCH_QUEUE_URL')),
    falKey: need('BENCH_FAL_KEY'),
  };
}

/** `/queue/<fal path>` goes to the queue origin, anything else to the run origin. */
export const QUEUE_PREFIX = '/queue';

export function onSignals(close: () => void): void {
  process.once('SIGTERM', close);
  process.once('SIGINT', close);
}

/**
 * Preloaded into every benchmark child (`node --import probe.js …`): measures event-loop delay and
 * answers it, with heap figures, over the IPC channel the harness opens. The histogram is reset on
 * every answer so each reading covers one measurement window. The channel is unref'd so it never
 * keeps a child alive.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

const histogram = monitorEventLoopDelay({ resolution: 10 });
histogram.enable();

const ms = (ns: number): number => Math.round(ns / 1e3) / 1e3; // ns → ms, µs precision
const mb = (bytes: number): number => Math.round(bytes / 1024 / 10.24) / 100;

if (process.send !== undefined) {
  process.on('message', (msg: unknown) => {
    if (msg !== 'probe' || process.send === undefined) return;
    const m = process.memoryUsage();
    process.send({
      probe: {
        eld: { p50Ms: ms(histogram.percentile(50)), p99Ms: ms(histogram.percentile(99)), maxMs: ms(histogram.max) },
        mem: { heapUsedMb: mb(m.heapUsed), heapTotalMb: mb(m.heapTotal), externalMb: mb(m.external), arrayBuffersMb: mb(m.arrayBuffers) },
      },
    });
    histogram.reset();
  });
  process.channel?.unref();
}

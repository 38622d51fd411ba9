/**
 * Build of the operator console and the playground (`npm run build` → dist/web). Two pages, one
 * bundle graph: shared code (web/shared) is split once. Asset names carry a content hash, so the
 * gateway serves /assets/* with a year-long immutable cache and the two HTML pages with no-cache
 * (src/http/routes/web.ts). Everything is bundled: the pages load nothing from outside the gateway.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  root: here('.'),
  base: '/',
  publicDir: false,
  logLevel: 'warn',
  build: {
    outDir: here('../dist/web'),
    emptyOutDir: true,
    assetsDir: 'assets',
    target: 'es2022',
    sourcemap: false,
    // Assets are few and small; inlining none keeps the CSP simple (no data: scripts).
    assetsInlineLimit: 0,
    rollupOptions: {
      input: { console: here('console/index.html'), playground: here('playground/index.html') },
    },
  },
});

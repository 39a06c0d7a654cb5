import { defineConfig } from 'vite';

/**
 * The console, built by `npm run build` (from the repository root) into dist/console, which the
 * admin API serves at /ui. `npm run dev:console` serves it with live reload on :5173 and forwards
 * API calls to the admin API at ADMIN_URL (default http://127.0.0.1:9070).
 */
// The config runs in Node; the console's tsconfig has no Node types.
declare const process: { env: Record<string, string | undefined> };
const admin = process.env.ADMIN_URL ?? 'http://127.0.0.1:9070';
const apiPaths = [
  '/version',
  '/health',
  '/deployments',
  '/services',
  '/kafka-clusters',
  '/subscriptions',
  '/invocations',
  '/invocation-counts',
  '/openapi.json',
];

export default defineConfig({
  root: 'apps/console',
  base: '/ui/',
  // React's automatic JSX runtime through esbuild: no Babel or SWC plugin needed to build.
  esbuild: { jsx: 'automatic' },
  build: {
    outDir: '../../dist/console',
    emptyOutDir: true,
    sourcemap: true,
    chunkSizeWarningLimit: 1000,
    rollupOptions: {
      // React Server Components' "use client" markers mean nothing in a client-only bundle.
      onwarn(warning, warn) {
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return;
        warn(warning);
      },
    },
  },
  server: {
    proxy: Object.fromEntries(apiPaths.map((p) => [p, admin])),
  },
});

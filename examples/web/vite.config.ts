/**
 * The web demo's build: the wallet's client code from src/ (no Node built-ins, no polyfills) for a modern
 * browser. `npm run demo:web` builds it and serves it beside a custodian (examples/web/server.ts).
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  logLevel: 'warn',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    chunkSizeWarningLimit: 2048,
  },
});

import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/**
 * The console builds into dist/console, which the server serves at `/`. The output must run under the
 * console's Content-Security-Policy (`script-src 'self'; style-src 'self'`, no data: URLs), so nothing
 * may be inlined: no asset turned into a data: URL, no inline module-preload polyfill.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('../dist/console', import.meta.url)),
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    chunkSizeWarningLimit: 1024,
  },
});

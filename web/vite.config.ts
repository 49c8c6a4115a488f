import { fileURLToPath } from 'node:url';
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vite';

// The web app is built into dist/web, which the server serves at `/`.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  plugins: [vue()],
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    sourcemap: true,
    // Every asset is bundled: nothing is loaded from other hosts.
    assetsInlineLimit: 4096,
  },
  server: {
    // `npx vite web` during development proxies the realtime endpoint and the app API to a running server.
    proxy: {
      '/connection': { target: 'ws://127.0.0.1:8080', ws: true },
      '/app': 'http://127.0.0.1:8080',
    },
  },
});

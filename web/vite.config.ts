/**
 * The web pages as one Vite multi-page build: /demo/ (the mini program in a browser) and
 * /admin/ (the console). Everything, echarts included, is bundled into dist/web: the pages need
 * no network beyond the minipay server. src/server/web-pages.ts serves the result.
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));
const PAGES = ['demo', 'admin'];

export default defineConfig({
  root: here,
  base: '/',
  plugins: [vue()],
  // The client library is shared with the mini program; nothing here reads process.env.
  define: { 'process.env.NODE_ENV': JSON.stringify('production') },
  build: {
    outDir: resolve(here, '../dist/web'),
    emptyOutDir: true,
    assetsDir: 'assets',
    // echarts is big; one chunk of it loaded only by the console is fine.
    chunkSizeWarningLimit: 1200,
    rollupOptions: {
      output: {
        // Vue's runtime in a chunk of its own, shared by both pages.
        manualChunks: (id) => (/node_modules\/(@vue|vue)\//.test(id) ? 'vue' : undefined),
      },
      input: Object.fromEntries(
        PAGES.map((page) => [page, resolve(here, page, 'index.html')]).filter(([, html]) =>
          existsSync(html as string),
        ),
      ),
    },
  },
});

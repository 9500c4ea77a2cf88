/**
 * The uni-app build: `mp-weixin` into dist/build/mp-weixin (open it in WeChat DevTools) and H5
 * into dist/build/h5. minipay's client library is compiled from this repository's src/client,
 * so the app always runs the library as it is now (in your own project: `import ... from
 * 'minipay/client'` with minipay installed, or a copy of src/client and src/contract).
 */
import { fileURLToPath } from 'node:url';
import uni from '@dcloudio/vite-plugin-uni';
import { defineConfig } from 'vite';

const client = fileURLToPath(new URL('../../src/client/index.ts', import.meta.url));
/** The minipay server the H5 dev server forwards to (`npm run dev:h5`). */
const server = process.env.VITE_MINIPAY_URL || 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [uni()],
  resolve: { alias: { 'minipay/client': client } },
  // src/client sits under the repository's tsconfig (target ES2023, newer than this esbuild
  // knows): compile it for the same targets as the app.
  esbuild: { tsconfigRaw: { compilerOptions: { target: 'es2020' } } },
  // The page and the minipay server on one origin, as when both sit behind one HTTPS host.
  server: {
    proxy: {
      '/api': { target: server, changeOrigin: true },
      '/demo/sandbox': { target: server, changeOrigin: true },
    },
  },
});

/**
 * The Taro build: `weapp` into dist/weapp (open this folder in WeChat DevTools) and `h5` into
 * dist/h5. minipay's client library is compiled from this repository's src/client (and the
 * status lists of src/contract it uses), so the app always runs the library as it is now (in
 * your own project: `import ... from 'minipay/client'` with minipay installed, or a copy of
 * src/client and src/contract).
 */
import path from 'node:path';
import { defineConfig } from '@tarojs/cli';

const client = path.resolve(__dirname, '../../../src/client');
/** The API's shapes and status lists, which the client imports. */
const contract = path.resolve(__dirname, '../../../src/contract');
/** The minipay server the H5 dev server forwards to (`npm run dev:h5`). */
const devServer = process.env.TARO_APP_MINIPAY_URL || 'http://127.0.0.1:8080';

/** src/client imports `./x.js` meaning `./x.ts`, as Node's TypeScript resolution does. */
function resolveClient(chain: { resolve: { set(key: string, value: unknown): unknown } }) {
  chain.resolve.set('extensionAlias', { '.js': ['.ts', '.js'] });
}

export default defineConfig<'webpack5'>(() => ({
  projectName: 'minipay-example-taro',
  date: '2026-1-1',
  designWidth: 750,
  deviceRatio: { 640: 2.34 / 2, 750: 1, 375: 2, 828: 1.81 / 2 },
  sourceRoot: 'src',
  outputRoot: process.env.TARO_ENV === 'h5' ? 'dist/h5' : 'dist/weapp',
  framework: 'react',
  compiler: 'webpack5',
  alias: { 'minipay/client': path.join(client, 'index.ts') },
  // Taro passes on only the TARO_APP_* variables that are set; config.ts reads both, set or not.
  env: {
    TARO_APP_MINIPAY_URL: JSON.stringify(process.env.TARO_APP_MINIPAY_URL ?? ''),
    TARO_APP_MINIPAY_MODE: JSON.stringify(process.env.TARO_APP_MINIPAY_MODE ?? ''),
  },
  mini: {
    compile: { include: [client, contract] },
    webpackChain: resolveClient,
  },
  h5: {
    // Relative asset URLs and hash routing: the build can be served under any path.
    publicPath: './',
    staticDirectory: 'static',
    router: { mode: 'hash' },
    compile: { include: [client, contract] },
    webpackChain: resolveClient,
    // The page and the minipay server on one origin, as when both sit behind one HTTPS host.
    devServer: {
      host: '127.0.0.1',
      proxy: [{ context: ['/api', '/demo/sandbox'], target: devServer, changeOrigin: true }],
    },
  },
}));

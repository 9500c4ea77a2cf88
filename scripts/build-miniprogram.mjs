#!/usr/bin/env node
// Bundles the client library (src/client) into one CommonJS file the sample mini program
// requires: miniprogram/lib/minipay.js. Run it before opening miniprogram/ in WeChat
// DevTools, and again after changing src/client:
//   npm run miniprogram:lib                  writes miniprogram/lib/minipay.js
//   node scripts/build-miniprogram.mjs --out /tmp/minipay.js
// The bundle must not need Node: platform "neutral" with no externals fails on any node: import.
import { mkdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outIndex = process.argv.indexOf('--out');
const outfile =
  outIndex > 0 ? process.argv[outIndex + 1] : join(root, 'miniprogram', 'lib', 'minipay.js');
if (!outfile) {
  console.error('usage: build-miniprogram.mjs [--out <file>]');
  process.exit(2);
}

mkdirSync(dirname(outfile), { recursive: true });
await build({
  entryPoints: [join(root, 'src', 'client', 'index.ts')],
  outfile,
  bundle: true,
  format: 'cjs',
  platform: 'neutral',
  // The base library runs ES2017 everywhere WeChat still supports; newer syntax is lowered.
  target: 'es2017',
  mainFields: ['module', 'main'],
  legalComments: 'none',
  logLevel: 'warning',
  banner: {
    js: '// minipay client library, bundled from src/client by `npm run miniprogram:lib`. Do not edit.',
  },
});
console.log(`minipay client library → ${relative(process.cwd(), outfile)}`);

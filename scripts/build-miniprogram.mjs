#!/usr/bin/env node
// Bundles the client library (src/client) into one CommonJS file the sample mini program
// requires: miniprogram/lib/minipay.js. Run it before opening miniprogram/ in WeChat
// DevTools, and again after changing src/client:
//   npm run miniprogram:lib                  writes miniprogram/lib/minipay.js
//   node scripts/build-miniprogram.mjs --out /tmp/minipay.js
//   node scripts/build-miniprogram.mjs --app /tmp/sample
//                                            the whole sample compiled, as DevTools' TypeScript
//                                            plugin does: each .ts to a CommonJS .js beside the
//                                            .wxml/.wxss/.json, and lib/minipay.js (what the
//                                            offline page tests load; tools without that plugin
//                                            can upload it)
// The bundle must not need Node: platform "neutral" with no externals fails on any node: import.
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, transform } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const sample = join(root, 'miniprogram');
// The base library runs ES2017 everywhere WeChat still supports; newer syntax is lowered.
const TARGET = 'es2017';

function option(name) {
  const at = process.argv.indexOf(name);
  if (at < 0) return undefined;
  const value = process.argv[at + 1];
  if (!value) {
    console.error('usage: build-miniprogram.mjs [--out <file> | --app <dir>]');
    process.exit(2);
  }
  return value;
}

async function bundleLibrary(outfile) {
  mkdirSync(dirname(outfile), { recursive: true });
  await build({
    entryPoints: [join(root, 'src', 'client', 'index.ts')],
    outfile,
    bundle: true,
    format: 'cjs',
    platform: 'neutral',
    target: TARGET,
    mainFields: ['module', 'main'],
    legalComments: 'none',
    logLevel: 'warning',
    banner: {
      js: '// minipay client library, bundled from src/client by `npm run miniprogram:lib`. Do not edit.',
    },
  });
}

/** Every file of the sample, relative to it, but the generated library and type stubs. */
function sampleFiles(dir = sample) {
  const files = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...sampleFiles(path));
    else files.push(relative(sample, path));
  }
  // What DevTools leaves out of the package too (project.config.json's packOptions).
  const skip = (file) =>
    file.endsWith('.d.ts') ||
    file.endsWith('.md') ||
    file === 'tsconfig.json' ||
    file === join('lib', 'minipay.js');
  return files.filter((file) => !skip(file));
}

/** One CommonJS module per .ts file, the rest copied: the project DevTools would run. */
async function compileApp(outDir) {
  for (const file of sampleFiles()) {
    const target = join(outDir, file);
    mkdirSync(dirname(target), { recursive: true });
    if (!file.endsWith('.ts')) {
      copyFileSync(join(sample, file), target);
      continue;
    }
    const { code } = await transform(readFileSync(join(sample, file), 'utf8'), {
      loader: 'ts',
      format: 'cjs',
      target: TARGET,
      sourcefile: file,
    });
    writeFileSync(target.replace(/\.ts$/, '.js'), code);
  }
  await bundleLibrary(join(outDir, 'lib', 'minipay.js'));
}

const app = option('--app');
if (app) {
  await compileApp(app);
  console.log(`sample mini program, compiled → ${relative(process.cwd(), app) || '.'}`);
} else {
  const outfile = option('--out') ?? join(sample, 'lib', 'minipay.js');
  await bundleLibrary(outfile);
  console.log(`minipay client library → ${relative(process.cwd(), outfile)}`);
}

#!/usr/bin/env node
// The whole test suite, as CI runs it: the examples' dependencies (when missing), lint and
// format check, import cycles and layers (.dependency-cruiser.cjs), typecheck, then every
// test/**/*.test.ts with node's built-in runner (through tsx); test/examples builds the Taro
// and uni-app examples and drives their H5 builds.
//   npm test                       everything
//   npm test -- test/wechatpay     only the files under these paths (checks still run)
//   MINIPAY_TEST_FAST=1 npm test   skip lint and typecheck (local iteration only)
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const args = process.argv.slice(2);

function step(what, cmd, cmdArgs, env = {}) {
  console.log(`\n▶ ${what}`);
  const r = spawnSync(cmd, cmdArgs, {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, ...env },
  });
  if (r.status !== 0) {
    console.error(`\n✖ ${what} failed`);
    process.exit(r.status ?? 1);
  }
}

function testFiles(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...testFiles(path));
    else if (entry.name.endsWith('.test.ts')) out.push(relative(root, path));
  }
  return out.sort();
}

/** The newest modification time of any file under `dir` (0 when it does not exist). */
function newest(dir) {
  let latest = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

const targets = args.filter((a) => !a.startsWith('-'));
const passThrough = args.filter((a) => a.startsWith('-'));
const files = (targets.length ? targets : ['test']).flatMap((t) =>
  statSync(join(root, t)).isDirectory() ? testFiles(join(root, t)) : [t],
);
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}

// The Taro and uni-app examples have their own dependencies (scripts/examples.mjs).
const fast = Boolean(process.env.MINIPAY_TEST_FAST);
const examples = join(root, 'scripts', 'examples.mjs');
if (!fast || files.some((file) => file.startsWith(join('test', 'examples')))) {
  step('install the examples when missing (npm install)', process.execPath, [examples, 'install']);
}
if (!fast) {
  step('lint and format (biome)', bin('biome'), ['check', '.']);
  step('no import cycles, layers respected (dependency-cruiser)', bin('depcruise'), [
    '--config',
    '.dependency-cruiser.cjs',
    'src',
    'web',
  ]);
  step('typecheck (tsc --noEmit)', bin('tsc'), ['-p', 'tsconfig.json']);
  step('typecheck the sample mini program', bin('tsc'), ['-p', 'miniprogram/tsconfig.json']);
  step('typecheck the web pages', bin('tsc'), ['-p', 'web/tsconfig.json']);
  step('typecheck the examples (their own tsc, vue-tsc)', process.execPath, [
    examples,
    'typecheck',
  ]);
}
// The browser tests load the built pages: rebuild them when web/ or src/client is newer.
if (
  newest(join(root, 'web')) > newest(join(root, 'dist', 'web')) ||
  newest(join(root, 'src', 'client')) > newest(join(root, 'dist', 'web'))
) {
  step('build the web pages (vite)', bin('vite'), [
    'build',
    '--config',
    'web/vite.config.ts',
    '--logLevel',
    'warn',
  ]);
}
step(
  `tests (${files.length} files, node --test)`,
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-reporter=spec',
    `--test-concurrency=${process.env.MINIPAY_TEST_CONCURRENCY ?? '4'}`,
    '--test-timeout=600000',
    ...passThrough,
    ...files,
  ],
  { NODE_ENV: 'test' },
);

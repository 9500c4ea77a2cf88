#!/usr/bin/env node
// The Taro and uni-app examples (examples/*) keep their own package.json and lock, so the
// root package stays lean. `npm test` runs this before the example tests:
//   node scripts/examples.mjs install     npm install in each example whose node_modules is
//                                          missing or older than its package.json or lock
//   node scripts/examples.mjs typecheck   each example's own tsc (vue-tsc for uni-app)
// Only node builtins here. `npm install`, not `npm ci`: see scripts/bootstrap.mjs.
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const EXAMPLES = [
  { name: 'taro', typecheck: ['tsc', '-p', 'tsconfig.json'] },
  { name: 'uni-app', typecheck: ['vue-tsc', '--noEmit', '-p', 'tsconfig.json'] },
];

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

function run(cwd, cmd, args) {
  const started = Date.now();
  console.log(`examples: ${relative(root, cwd)}: ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`examples: "${cmd} ${args.join(' ')}" failed in ${relative(root, cwd)}`);
    process.exit(r.status ?? 1);
  }
  console.log(
    `examples: ${relative(root, cwd)}: done in ${Math.round((Date.now() - started) / 1000)} s`,
  );
}

function install() {
  for (const { name } of EXAMPLES) {
    const dir = join(root, 'examples', name);
    const installed = mtime(join(dir, 'node_modules', '.package-lock.json'));
    const wanted = Math.max(
      mtime(join(dir, 'package.json')),
      mtime(join(dir, 'package-lock.json')),
    );
    if (installed && installed >= wanted) continue;
    run(dir, 'npm', ['install', '--no-audit', '--no-fund']);
  }
}

function typecheck() {
  for (const {
    name,
    typecheck: [bin, ...args],
  } of EXAMPLES) {
    const dir = join(root, 'examples', name);
    run(dir, join(dir, 'node_modules', '.bin', bin), args);
  }
}

const command = process.argv[2];
if (command === 'install') install();
else if (command === 'typecheck') typecheck();
else {
  console.error('usage: examples.mjs install | typecheck');
  process.exit(2);
}

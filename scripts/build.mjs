#!/usr/bin/env node
// Compiles src/ to dist/ (and, once it exists, the web pages), copies src/'s plain JavaScript
// modules (worker entry points, which must run without tsx's loader) beside the compiled files,
// then stamps the build so scripts/bootstrap.mjs knows it is current.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);

function step(what, cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`build: ${what} failed`);
    process.exit(r.status ?? 1);
  }
}

rmSync(join(root, 'dist', 'src'), { recursive: true, force: true });
step('TypeScript compile', bin('tsc'), ['-p', 'tsconfig.build.json']);
for (const entry of readdirSync(join(root, 'src'), { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith('.mjs')) continue;
  const from = join(entry.parentPath, entry.name);
  const to = join(root, 'dist', relative(root, from));
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(from, to);
}
if (existsSync(join(root, 'web', 'vite.config.ts'))) {
  step('web build', bin('vite'), ['build', '--config', 'web/vite.config.ts', '--logLevel', 'warn']);
}
mkdirSync(join(root, 'dist'), { recursive: true });
writeFileSync(join(root, 'dist', '.build-stamp'), `${new Date().toISOString()}\n`);

#!/usr/bin/env node
// Compiles src/ to dist/ (and, once it exists, the web pages), then stamps the build so
// scripts/bootstrap.mjs knows it is current.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
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
if (existsSync(join(root, 'web', 'vite.config.ts'))) {
  step('web build', bin('vite'), ['build', '--config', 'web/vite.config.ts', '--logLevel', 'warn']);
}
mkdirSync(join(root, 'dist'), { recursive: true });
writeFileSync(join(root, 'dist', '.build-stamp'), `${new Date().toISOString()}\n`);

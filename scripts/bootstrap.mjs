#!/usr/bin/env node
// Makes a fresh clone runnable: installs npm packages when they are missing or stale, builds
// when the build is missing or older than the sources, and (with --system, for `npm test`)
// installs the Debian packages the tests drive (chromium, postgresql) when they are missing.
// Only node builtins here: this runs before anything is installed.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const system = process.argv.includes('--system');

function run(cmd, args, what) {
  console.log(`minipay: ${what} (${cmd} ${args.join(' ')})`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`minipay: "${cmd} ${args.join(' ')}" failed; fix the error above and run again.`);
    process.exit(r.status ?? 1);
  }
}

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

function newestIn(dir) {
  let newest = 0;
  if (!existsSync(dir)) return 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestIn(path) : mtime(path));
  }
  return newest;
}

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  console.error(`minipay needs Node.js 20.19 or newer; this is ${process.versions.node}.`);
  process.exit(1);
}

const installed = mtime(join(root, 'node_modules', '.package-lock.json'));
const lock = Math.max(mtime(join(root, 'package-lock.json')), mtime(join(root, 'package.json')));
if (!installed || installed < lock) {
  // `npm install`, not `npm ci`: the registry this project installs from lacks some other
  // platforms' optional binaries (@biomejs/cli-darwin-*, @rollup/rollup-win32-*), which `npm ci`
  // treats as a lock file out of sync; `npm install` skips them and still honours the lock.
  run('npm', ['install', '--no-audit', '--no-fund'], 'installing npm packages');
} else {
  const built = mtime(join(root, 'dist', '.build-stamp'));
  const sources = Math.max(newestIn(join(root, 'src')), newestIn(join(root, 'web')), lock);
  if (!built || built < sources) run('npm', ['run', 'build', '--silent'], 'building');
}

if (system) {
  const missing = [];
  if (!existsSync('/usr/bin/chromium')) missing.push('chromium');
  if (!existsSync('/usr/lib/postgresql') && spawnSync('which', ['initdb']).status !== 0) {
    missing.push('postgresql');
  }
  if (missing.length > 0) {
    const canApt = process.getuid?.() === 0 && spawnSync('which', ['apt-get']).status === 0;
    if (canApt) {
      run('apt-get', ['update', '-qq'], 'refreshing Debian package lists');
      run(
        'apt-get',
        ['install', '-y', '-qq', '--no-install-recommends', ...missing],
        `installing ${missing.join(', ')}`,
      );
    } else {
      console.warn(
        `minipay: the browser and PostgreSQL tests need ${missing.join(' and ')}; install ${missing.length > 1 ? 'them' : 'it'} (Debian: apt-get install ${missing.join(' ')}).`,
      );
    }
  }
}

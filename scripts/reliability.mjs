#!/usr/bin/env node
// The long reliability runs (RELIABILITY.md): the full duplicate storm and the chaos run.
// The quick versions are in the normal suite (test/reliability/*.test.ts).
//   npm run reliability                         every long run
//   npm run reliability -- test/reliability/full/chaos.reliability.ts   one of them
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join('test', 'reliability', 'full');
const given = process.argv.slice(2);
const files = given.length
  ? given
  : readdirSync(join(root, dir))
      .filter((f) => f.endsWith('.reliability.ts'))
      .sort()
      .map((f) => join(dir, f));
const r = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-reporter=spec',
    '--test-concurrency=1',
    '--test-timeout=1800000',
    ...files,
  ],
  { cwd: root, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' } },
);
process.exit(r.status ?? 1);

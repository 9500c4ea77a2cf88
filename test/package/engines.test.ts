/**
 * Every package the lock file installs runs on the oldest Node minipay supports: one that wants
 * a newer Node makes `npm install` print EBADENGINE warnings at a newcomer (package.json's
 * `overrides` hold back the two that did; docs/deploy.md says why).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import semver from 'semver';

const root = new URL('../../', import.meta.url);
const json = (path: string) => JSON.parse(readFileSync(new URL(path, root), 'utf8'));

test('every locked package accepts the oldest Node in package.json "engines"', () => {
  const range: string = json('package.json').engines.node;
  const oldest = semver.minVersion(range)?.version;
  assert.ok(oldest, `engines.node "${range}" has a lowest version`);
  const lock = json('package-lock.json') as {
    packages: Record<string, { version?: string; engines?: { node?: string } | string[] }>;
  };
  const refusing = Object.entries(lock.packages)
    .filter(([path, p]) => {
      const wanted = Array.isArray(p.engines) ? undefined : p.engines?.node;
      return path !== '' && wanted !== undefined && !semver.satisfies(oldest, wanted);
    })
    .map(([path, p]) => `${path.replace(/^.*node_modules\//, '')}@${p.version}`);
  assert.deepEqual(refusing, [], `these want a Node newer than ${oldest}`);
});

/**
 * Writes the hostile-input corpus to test/fixtures/hostile/: one file per case plus
 * manifest.json (name, file, target endpoint kind, what it attacks, expected outcome class).
 * Deterministic: the signed cases use the demo sandbox credentials and fixed nonces, so
 * running it again changes nothing (test/fixtures/hostile-corpus.test.ts checks that).
 *
 *   node --import tsx scripts/gen-hostile-fixtures.ts
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildHostileCases, hostileManifest } from '../test/support/hostile-cases.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'fixtures', 'hostile');
mkdirSync(dir, { recursive: true });
for (const name of readdirSync(dir)) rmSync(join(dir, name));
const cases = buildHostileCases();
for (const c of cases) writeFileSync(join(dir, c.file), c.body);
writeFileSync(join(dir, 'manifest.json'), hostileManifest(cases));
console.log(`wrote ${cases.length} hostile cases and manifest.json to ${dir}`);

/**
 * Writes a benchmark's section into BENCHMARKS.md between `<!-- NAME:start -->` and
 * `<!-- NAME:end -->`, replacing the previous run's, or appending it the first time.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const FILE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'BENCHMARKS.md');

export function writeBenchmarkSection(name: string, markdown: string): void {
  const start = `<!-- ${name}:start (written by bench/${name}.bench.ts) -->`;
  const end = `<!-- ${name}:end -->`;
  const section = `${start}\n${markdown.trim()}\n${end}`;
  const current = readFileSync(FILE, 'utf8');
  const from = current.indexOf(`<!-- ${name}:start`);
  const to = current.indexOf(end);
  const next =
    from >= 0 && to > from
      ? current.slice(0, from) + section + current.slice(to + end.length)
      : `${current.trimEnd()}\n\n${section}\n`;
  writeFileSync(FILE, next);
  console.log(`\nwritten to BENCHMARKS.md (section ${name})`);
}

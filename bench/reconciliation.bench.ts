/**
 * Reconciling a day: read, check and match a generated bill of N rows against N ledger rows, on
 * SQLite and PostgreSQL, each run in its own process (time and peak RSS); see BENCHMARKS.md.
 *
 *   node --import tsx bench/reconciliation.bench.ts [rows, default 100000,1000000] [what, default none,matcher,sqlite,postgres]
 *   BENCH_CPU_PROF=<dir> …  also writes a V8 CPU profile of each run
 *
 * The day (reconciliation-data.ts) is generated once per size under the temp directory and kept
 * for later runs; each database is fresh, migrated, loaded with the ledger (not timed), then the
 * run is timed: the bill streamed from its gzip file with its summary checked and sorted, the
 * ledger read sorted from SQL, both matched (reconciliation-day.ts). Every run must find exactly the planted differences. The run
 * is compiled by tsc first (into .tmp/), so its memory is that of minipay's compiled code, not
 * of a TypeScript loader.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { sql } from 'kysely';
import { openStore } from '../src/store/index.js';
import { type PgCluster, startPostgres } from '../test/support/postgres.js';
import { generateDay } from './support/reconciliation-data.js';
import { loadLedger } from './support/reconciliation-ledger.js';

const sizes = (process.argv[2] ?? '100000,1000000').split(',').map(Number);
// `none`: the bill read and checked only, no database (the protocol layer's share);
// `matcher`: matchDay alone, as many payments a side as the bill has rows; `sqlite-engine`,
// `postgres-engine`: minipay's engine (Reconciliation.compare, src/payments/reconciliation)
// instead of the phase-1 cursors of reconciliation-day.ts.
const databases = (
  process.argv[3] ?? 'none,matcher,sqlite,postgres,sqlite-engine,postgres-engine'
).split(',');
const load = () =>
  loadavg()
    .map((n) => n.toFixed(2))
    .join(' ');

console.log(`node ${process.version}, ${commit()}, load average ${load()}`);
const runner = compileRunner();
const pgCluster: { current: PgCluster | null } = { current: null };
interface Row {
  database: string;
  billRows: number;
  ledgerRows: number;
  totalMs: number;
  cpuMs: number;
  mainCpuMs: number;
  baselineMiB: number;
  maxRssMiB: number;
  differences: number;
  load: string;
}
const results: Row[] = [];
try {
  for (const rows of sizes) {
    const dir = await day(rows);
    for (const database of databases) {
      const alone = database === 'none' || database === 'matcher';
      // `sqlite-engine`, `postgres-engine`: the engine minipay runs (Reconciliation.compare).
      const [kind, engine] = database.split('-');
      const url = alone ? database : await freshDatabase(kind!, rows);
      if (!alone) await setUp(database, rows, url, dir);
      const args = [runner, url, dir, String(rows), ...(engine ? ['engine'] : [])];
      const run = spawnSync(process.execPath, [...profileFlags(), ...args], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      if (run.status !== 0) throw new Error(`the run failed (${run.status})`);
      const result = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
      results.push({ database, rows, ...result, load: load() });
      console.log(JSON.stringify(results.at(-1)));
      if (!result.exact) throw new Error('the differences found are not the planted ones');
      if (kind === 'sqlite') rmSync(url.slice('sqlite:'.length), { force: true });
    }
  }
} finally {
  await pgCluster.current?.stop();
}

console.log(
  '\n| database | bill rows | ledger rows | wall s | CPU s | main thread CPU s | peak RSS MiB (at start) | differences | load average |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of results) {
  console.log(
    `| ${r.database} | ${r.billRows} | ${r.ledgerRows} | ${sec(r.totalMs)} | ${sec(r.cpuMs)} | ${sec(r.mainCpuMs)} | ${r.maxRssMiB} (${r.baselineMiB}) | ${r.database === 'none' || r.database === 'matcher' ? '–' : `${r.differences} (all planted)`} | ${r.load} |`,
  );
}

/** A fresh database: migrated, the day's ledger loaded (not timed). */
async function setUp(database: string, rows: number, url: string, dir: string) {
  const started = performance.now();
  const store = openStore(url);
  await store.migrate();
  const ledger = await loadLedger(store, dir);
  await sql.raw('ANALYZE').execute(store.db);
  await store.close();
  console.log(
    `${database} ${rows}: ledger of ${ledger.orders} orders and ${ledger.refunds} refunds loaded in ${sec(performance.now() - started)}; load average ${load()}`,
  );
}

/** The generated day of `rows` rows, made once and kept. */
async function day(rows: number): Promise<string> {
  const dir = join(tmpdir(), `minipay-bench-reconciliation-${rows}`);
  if (existsSync(join(dir, 'planted.json'))) return dir;
  mkdirSync(dir, { recursive: true });
  const started = performance.now();
  await generateDay(dir, rows);
  const mib = (statSync(join(dir, 'bill.csv.gz')).size / 2 ** 20).toFixed(1);
  console.log(
    `generated ${rows} rows in ${sec(performance.now() - started)} (bill.csv.gz ${mib} MiB): ${dir}`,
  );
  return dir;
}

async function freshDatabase(database: string, rows: number): Promise<string> {
  if (database === 'sqlite') {
    const file = join(tmpdir(), `minipay-bench-reconciliation-${rows}.sqlite`);
    for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
    return `sqlite:${file}`;
  }
  pgCluster.current ??= await startPostgres();
  if (!pgCluster.current)
    throw new Error('PostgreSQL binaries not found (test/support/postgres.ts)');
  return pgCluster.current.createDatabase();
}

/** `BENCH_CPU_PROF=<dir>`: a V8 CPU profile of each run there (bench/profile-summary.mjs). */
function profileFlags(): string[] {
  const dir = process.env.BENCH_CPU_PROF;
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [];
}

/** tsc's JavaScript of reconciliation-run.ts and what it imports; returns its path. */
function compileRunner(): string {
  const out = '.tmp/bench-build';
  const flags = ['--ignoreConfig', '--outDir', out, '--rootDir', '.', '--module', 'NodeNext'];
  flags.push('--moduleResolution', 'NodeNext', '--target', 'ES2023', '--types', 'node');
  flags.push('--skipLibCheck', '--strict', '--verbatimModuleSyntax', '--esModuleInterop');
  const tsc = spawnSync(
    'node_modules/.bin/tsc',
    [...flags, 'bench/support/reconciliation-run.ts'],
    {
      stdio: 'inherit',
    },
  );
  if (tsc.status !== 0) throw new Error('tsc failed');
  // Worker entry points are plain JavaScript beside the compiled files, as scripts/build.mjs does.
  for (const entry of readdirSync('src', { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.mjs')) continue;
    const to = join(out, entry.parentPath, entry.name);
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(join(entry.parentPath, entry.name), to);
  }
  return join(out, 'bench/support/reconciliation-run.js');
}

function sec(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`.replace(' s', '');
}

function commit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'no git';
  }
}

/**
 * `minipay migrate`: brings the database named by MINIPAY_DATABASE_URL up to this version's
 * schema (and, on PostgreSQL, the job queue's), then exits. Rolling deploys run it once and
 * then start the new instances with MINIPAY_MIGRATE=off.
 */
import { parseArgs } from 'node:util';
import { type Config, ConfigError, loadConfig } from '../../app/config.js';
import { migrateJobQueue } from '../../jobs/index.js';
import { openStore, type Store } from '../../store/index.js';
import { type Command, UsageError } from '../command.js';

const usage = `Usage: minipay migrate

Runs the database migrations this minipay has and the database lacks, prints each one, and
exits: 0 when the database is up to date, 1 when it is not (the error says why). Safe to run
again, and from several places at once (they take turns on a lock).

The database is MINIPAY_DATABASE_URL (default sqlite:./data/minipay.sqlite); on PostgreSQL
the job queue's schema (pg-boss, minipay_jobs) is created or upgraded too.

A database migrated by a newer minipay is refused, never changed.

Rolling deploy: run \`minipay migrate\` with the new version once, then restart the instances
one by one with MINIPAY_MIGRATE=off (docs/deploy.md). A single process on SQLite needs none
of this: \`minipay start\` migrates at start-up.

Options:
  -h, --help     show this help`;

function write(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Migrates and reports; resolves to the exit code. */
export async function migrateDatabase(config: Config, say: (line: string) => void = write) {
  const store: Store = openStore(config.databaseUrl);
  try {
    say(`minipay migrate: ${store.description}`);
    const applied = await store.migrate();
    for (const name of applied) say(`  applied ${name}`);
    if (store.dialect === 'postgres') {
      await migrateJobQueue(config.databaseUrl);
      say('  job queue schema (pg-boss, minipay_jobs) is current');
    }
    const { applied: all } = await store.schema();
    const at = all.at(-1) ?? '(none)';
    say(
      applied.length > 0
        ? `minipay migrate: done: ${applied.length} applied; the database is at ${at}`
        : `minipay migrate: nothing to do: the database is already at ${at}`,
    );
  } finally {
    await store.close();
  }
}

export const migrateCommand: Command = {
  name: 'migrate',
  summary: 'Migrate the database to this version, then exit (run before a rolling restart)',
  usage,
  async run(argv) {
    try {
      parseArgs({ args: argv, strict: true, allowPositionals: false, options: {} });
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    let config: Config;
    try {
      config = loadConfig();
    } catch (err) {
      if (err instanceof ConfigError) {
        process.stderr.write(`minipay migrate: ${err.message}\n`);
        return 1;
      }
      throw err;
    }
    try {
      await migrateDatabase(config);
      return 0;
    } catch (err) {
      process.stderr.write(`minipay migrate: failed: ${(err as Error).message}\n`);
      return 1;
    }
  },
};

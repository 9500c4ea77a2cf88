/**
 * Opens the store: Kysely over better-sqlite3 (the embedded default, WAL) or PostgreSQL
 * (a `pg` Pool), chosen by the URL: `sqlite:./data/minipay.sqlite`, `sqlite::memory:` or
 * `postgres://user:pass@host:5432/db`.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import SQLite from 'better-sqlite3';
import {
  Kysely,
  PostgresDialect,
  type SqliteDatabase,
  SqliteDialect,
  type SqliteStatement,
  sql,
} from 'kysely';
import pg from 'pg';
import type { Dialect } from './dialect.js';
import { groupCommit, type Transactor, transactionPerUnit } from './group-commit.js';
import { migrateToLatest, type SchemaState, schemaState } from './migrations.js';
import type { Database } from './schema.js';
import { type CheckpointLogger, startWalCheckpointer } from './wal-checkpointer.js';

export interface Store {
  readonly db: Kysely<Database>;
  readonly dialect: Dialect;
  /**
   * Runs a unit of work in a transaction: on SQLite units that arrive together share one
   * COMMIT (group commit, src/store/group-commit.ts); on PostgreSQL each has its own.
   */
  readonly transact: Transactor;
  /** Where it points, without any password (for logs and the console). */
  readonly description: string;
  /** Runs pending migrations; resolves to the names applied. Refuses a newer schema. */
  migrate(): Promise<string[]>;
  /** Where the schema stands against this minipay's migrations (changes nothing). */
  schema(): Promise<SchemaState>;
  /** true when the database answers. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export interface StoreOptions {
  /** PostgreSQL pool size (default 10). */
  poolSize?: number;
  /**
   * SQLite file: checkpoint the write-ahead log in a worker thread instead of inside a COMMIT
   * (the server does; src/store/wal-checkpointer.ts). Default off: short-lived stores (CLI,
   * tests) gain nothing from a thread.
   */
  backgroundCheckpoints?: boolean;
  /** SQLite file: refuse to create it (checks that must not leave an empty database behind). */
  mustExist?: boolean;
  /** Where background checkpoints report their first failure (default: a process warning). */
  logger?: CheckpointLogger;
}

/**
 * The driver under a store's Kysely instance, for the few bulk paths Kysely's per-query cost
 * (building, compiling, a promise and an object per row) would dominate: reconciliation stages
 * and reads a million rows. On SQLite, use it only while holding the connection
 * (`db.connection().execute`): Kysely runs everything else on that same connection.
 */
export type StoreDriver =
  | { dialect: 'sqlite'; database: SQLite.Database }
  | { dialect: 'postgres'; pool: pg.Pool };

const drivers = new WeakMap<Kysely<Database>, StoreDriver>();

/** The driver of a store's Kysely instance (opened by `openStore`; not a transaction). */
export function storeDriver(db: Kysely<Database>): StoreDriver {
  const driver = drivers.get(db);
  if (driver === undefined) throw new Error('not the database of a store opened by openStore');
  return driver;
}

/** Opens (but does not migrate) the database at `url`; throws a message saying what to fix. */
export function openStore(url: string, options: StoreOptions = {}): Store {
  if (url.startsWith('sqlite:')) {
    return openSqlite(url.slice('sqlite:'.length), options);
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    return openPostgres(url, options.poolSize ?? 10);
  }
  throw new Error(
    'MINIPAY_DATABASE_URL must start with sqlite: (e.g. sqlite:./data/minipay.sqlite) or postgres:// (e.g. postgres://user:pass@localhost:5432/minipay)',
  );
}

function openSqlite(path: string, options: StoreOptions): Store {
  if (path === '')
    throw new Error('a sqlite: URL needs a file path, e.g. sqlite:./data/minipay.sqlite');
  const memory = path === ':memory:';
  const file = memory ? path : resolve(path);
  if (!memory && options.mustExist && !existsSync(file)) {
    throw new Error(`the SQLite database ${file} does not exist`);
  }
  if (!memory) mkdirSync(dirname(file), { recursive: true });
  const database = new SQLite(file);
  database.pragma('journal_mode = WAL');
  database.pragma('busy_timeout = 5000');
  database.pragma('foreign_keys = ON');
  database.pragma('synchronous = NORMAL');
  const checkpointer =
    options.backgroundCheckpoints && !memory
      ? startWalCheckpointer(database, file, { logger: options.logger })
      : undefined;
  const db = new Kysely<Database>({
    dialect: new SqliteDialect({ database: keepingStatements(database) }),
  });
  drivers.set(db, { dialect: 'sqlite', database });
  return makeStore(db, 'sqlite', `sqlite:${file}`, groupCommit(db), () => checkpointer?.stop());
}

/** How many prepared statements an SQLite store keeps (the app has a few dozen distinct queries). */
const STATEMENT_CACHE = 500;

/**
 * The database as Kysely's driver sees it, with each SQL text prepared once: the driver calls
 * `prepare` for every query, and SQLite would otherwise compile the same text again each time.
 * Safe to share: the driver runs one statement at a time on its single connection, and SQLite
 * re-prepares a kept statement by itself after a schema change.
 */
function keepingStatements(database: SQLite.Database): SqliteDatabase {
  const kept = new Map<string, SqliteStatement>();
  return {
    close: () => database.close(),
    prepare(text: string) {
      let statement = kept.get(text);
      if (statement === undefined) {
        statement = database.prepare(text);
        // Oldest first out: queries built with a varying number of parameters stay bounded.
        if (kept.size >= STATEMENT_CACHE) kept.delete(kept.keys().next().value as string);
        kept.set(text, statement);
      }
      return statement;
    },
  };
}

function openPostgres(url: string, max: number): Store {
  const pool = new pg.Pool({ connectionString: url, max });
  // An idle client's error (the server restarted) must not crash the process; queries retry.
  pool.on('error', () => undefined);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  drivers.set(db, { dialect: 'postgres', pool });
  return makeStore(db, 'postgres', redactUrl(url), transactionPerUnit(db));
}

function makeStore(
  db: Kysely<Database>,
  dialect: Dialect,
  description: string,
  transact: Transactor,
  beforeClose: () => Promise<void> | undefined = () => undefined,
): Store {
  let closed: Promise<void> | undefined;
  return {
    db,
    dialect,
    transact,
    description,
    migrate: () => migrateToLatest(db as Kysely<unknown>, dialect),
    schema: () => schemaState(db as Kysely<unknown>, dialect),
    async ping() {
      try {
        await sql`select 1`.execute(db);
        return true;
      } catch {
        return false;
      }
    },
    close() {
      closed ??= (async () => {
        await beforeClose();
        await db.destroy();
      })();
      return closed;
    },
  };
}

/** `postgres://user:secret@host/db` → `postgres://user:***@host/db`. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparseable URL)';
  }
}

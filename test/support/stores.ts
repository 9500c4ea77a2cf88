/**
 * Runs a suite on both stores: SQLite (a temp file) and a throwaway PostgreSQL. The
 * PostgreSQL variant is skipped, with the reason printed, only when its binaries are missing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { openStore, type Store } from '../../src/store/index.js';
import { type PgCluster, postgresSkipReason, startPostgres } from './postgres.js';

export type StoreKind = 'sqlite' | 'postgres';

export interface StoreFactory {
  kind: StoreKind;
  /** A fresh, migrated, empty store. */
  fresh(): Promise<Store>;
  /** The URL of a fresh, empty (not migrated) database, for code that opens its own store. */
  freshUrl(): Promise<string>;
}

/**
 * `describe(name [sqlite])` and `describe(name [postgres])`, each with its own factory (or only
 * the `kinds` given: a heavy suite can give each store a file, and so its own time limit).
 */
export function describeOnStores(
  name: string,
  suite: (stores: StoreFactory) => void,
  kinds: readonly StoreKind[] = ['sqlite', 'postgres'],
): void {
  if (kinds.includes('sqlite')) describeOnSqlite(name, suite);
  if (kinds.includes('postgres')) describeOnPostgres(name, suite);
}

function describeOnSqlite(name: string, suite: (stores: StoreFactory) => void): void {
  describe(`${name} [sqlite]`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'minipay-sqlite-'));
    const opened: Store[] = [];
    let n = 0;
    after(async () => {
      await Promise.all(opened.map((s) => s.close()));
      rmSync(dir, { recursive: true, force: true });
    });
    suite({
      kind: 'sqlite',
      async fresh() {
        const store = openStore(`sqlite:${join(dir, `db${++n}.sqlite`)}`);
        opened.push(store);
        await store.migrate();
        return store;
      },
      async freshUrl() {
        return `sqlite:${join(dir, `db${++n}.sqlite`)}`;
      },
    });
  });
}

function describeOnPostgres(name: string, suite: (stores: StoreFactory) => void): void {
  const skip = postgresSkipReason();
  describe(`${name} [postgres]`, { skip: skip ?? false }, () => {
    let cluster: PgCluster | null = null;
    const opened: Store[] = [];
    before(async () => {
      cluster = await startPostgres();
    });
    after(async () => {
      await Promise.all(opened.map((s) => s.close()));
      await cluster?.stop();
    });
    suite({
      kind: 'postgres',
      async fresh() {
        if (!cluster) throw new Error('postgres did not start');
        const store = openStore(await cluster.createDatabase());
        opened.push(store);
        await store.migrate();
        return store;
      },
      async freshUrl() {
        if (!cluster) throw new Error('postgres did not start');
        return cluster.createDatabase();
      },
    });
  });
}

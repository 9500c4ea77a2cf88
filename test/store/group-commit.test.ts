import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Kysely, sql } from 'kysely';
import { type Database, groupCommit, openStore, type Store } from '../../src/store/index.js';

let dir: string;
let store: Store;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'minipay-group-commit-'));
  store = openStore(`sqlite:${join(dir, 'g.sqlite')}`);
  await sql`create table t (k text primary key)`.execute(store.db);
});

after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const keys = async () =>
  (await sql<{ k: string }>`select k from t order by k`.execute(store.db)).rows.map((r) => r.k);

/** The store's database, counting the transactions begun on it. */
function countingTransactions(): { db: Kysely<Database>; count: () => number } {
  let n = 0;
  const db = new Proxy(store.db, {
    get(target, prop, receiver) {
      if (prop === 'transaction') {
        return () => {
          n++;
          return target.transaction();
        };
      }
      return Reflect.get(target, prop, receiver);
    },
  });
  return { db, count: () => n };
}

test('units that arrive together share one commit, and each sees its own writes', async () => {
  const transact = groupCommit(store.db);
  const seen: number[] = [];
  await Promise.all(
    ['a', 'b', 'c', 'd'].map((k) =>
      transact(async (trx) => {
        await sql`insert into t (k) values (${k})`.execute(trx);
        const n = await sql<{ n: number }>`select count(*) as n from t`.execute(trx);
        seen.push(Number(n.rows[0]?.n));
      }),
    ),
  );
  assert.deepEqual(await keys(), ['a', 'b', 'c', 'd']);
  // One transaction: the fourth unit saw all four rows.
  assert.deepEqual(seen, [1, 2, 3, 4]);
  await sql`delete from t`.execute(store.db);
});

test('a unit that throws is rolled back alone; its caller gets the error', async () => {
  const transact = groupCommit(store.db);
  const results = await Promise.allSettled([
    transact(async (trx) => sql`insert into t (k) values ('x1')`.execute(trx)),
    transact(async (trx) => {
      await sql`insert into t (k) values ('x2')`.execute(trx);
      throw new Error('unit two fails');
    }),
    // A constraint violation inside a unit is the same: only that unit is undone.
    transact(async (trx) => {
      await sql`insert into t (k) values ('x3')`.execute(trx);
      await sql`insert into t (k) values ('x1')`.execute(trx);
    }),
    transact(async (trx) => sql`insert into t (k) values ('x4')`.execute(trx)),
  ]);
  assert.deepEqual(
    results.map((r) => r.status),
    ['fulfilled', 'rejected', 'rejected', 'fulfilled'],
  );
  assert.match(String((results[1] as PromiseRejectedResult).reason), /unit two fails/);
  assert.match(String((results[2] as PromiseRejectedResult).reason), /UNIQUE/);
  assert.deepEqual(await keys(), ['x1', 'x4']);
  await sql`delete from t`.execute(store.db);
});

test('a lone unit that throws leaves nothing, and later units still run', async () => {
  const transact = groupCommit(store.db);
  await assert.rejects(
    transact(async (trx) => {
      await sql`insert into t (k) values ('lone')`.execute(trx);
      throw new Error('no');
    }),
    /no/,
  );
  await transact(async (trx) => sql`insert into t (k) values ('after')`.execute(trx));
  assert.deepEqual(await keys(), ['after']);
  await sql`delete from t`.execute(store.db);
});

test('ten units queued together take one transaction; batches are capped at maxBatch', async () => {
  const together = countingTransactions();
  const transact = groupCommit(together.db);
  await Promise.all(
    Array.from({ length: 10 }, (_, i) =>
      transact(async (trx) => sql`insert into t (k) values (${`g${i}`})`.execute(trx)),
    ),
  );
  assert.equal(together.count(), 1);
  const capped = countingTransactions();
  const small = groupCommit(capped.db, 4);
  await Promise.all(
    Array.from({ length: 10 }, (_, i) =>
      small(async (trx) => sql`insert into t (k) values (${`h${i}`})`.execute(trx)),
    ),
  );
  assert.equal(capped.count(), 3);
  // One after another (each awaited), every unit is a transaction of its own.
  const serial = countingTransactions();
  const one = groupCommit(serial.db);
  for (let i = 0; i < 3; i++) await one(async (trx) => sql`select ${i}`.execute(trx));
  assert.equal(serial.count(), 3);
  assert.equal((await keys()).length, 20);
  await sql`delete from t`.execute(store.db);
});

/** compiledOnce (src/payments/compiled-once.ts): compiled once per shape, run with each call's values. */
import assert from 'node:assert/strict';
import { beforeEach, test } from 'node:test';
import type { Insertable } from 'kysely';
import { compiledOnce } from '../../src/payments/compiled-once.js';
import type { Store } from '../../src/store/index.js';
import type { ProductsTable } from '../../src/store/schema.js';
import { describeOnStores } from '../support/stores.js';

const product = (id: string, priceFen: number): Insertable<ProductsTable> => ({
  id,
  name: `Product ${id}`,
  description: '',
  price_fen: priceFen,
  image_url: null,
  active: 1,
  stock: null,
  created_at: '2026-12-01T00:00:00.000Z',
  updated_at: '2026-12-01T00:00:00.000Z',
});

describeOnStores('compiledOnce', (stores) => {
  let store: Store;
  let builds: number;
  let insert: ReturnType<typeof makeInsert>;
  let byIds: ReturnType<typeof makeByIds>;
  let setPrice: ReturnType<typeof makeSetPrice>;

  const makeInsert = () =>
    compiledOnce((db, v: { rows: Insertable<ProductsTable>[] }) => {
      builds++;
      return db.insertInto('products').values(v.rows);
    });
  const makeByIds = () =>
    compiledOnce((db, v: { ids: string[] }) => {
      builds++;
      return db.selectFrom('products').select(['id', 'price_fen']).where('id', 'in', v.ids);
    });
  // A constant in the query ('active' = 1) stays while the values change around it.
  const makeSetPrice = () =>
    compiledOnce((db, v: { price: number; id: string }) => {
      builds++;
      return db
        .updateTable('products')
        .set({ price_fen: v.price, active: 1 })
        .where('id', '=', v.id)
        .returning(['id', 'price_fen', 'active']);
    });

  beforeEach(async () => {
    store = await stores.fresh();
    builds = 0;
    insert = makeInsert();
    byIds = makeByIds();
    setPrice = makeSetPrice();
  });

  const prices = async (ids: string[]) =>
    (await byIds.execute(store.db, { ids })).rows
      .map((r) => `${r.id}=${r.price_fen}`)
      .sort()
      .join(' ');

  test('each call runs with its own values; one build per shape', async () => {
    await insert.execute(store.db, { rows: [product('a', 100)] });
    await insert.execute(store.db, { rows: [product('b', 200)] });
    const two = await insert.execute(store.db, { rows: [product('c', 300), product('d', 400)] });
    assert.equal(Number(two.numAffectedRows), 2);
    assert.equal(builds, 2, 'one row and two rows are two shapes');
    assert.equal(await prices(['a']), 'a=100');
    assert.equal(await prices(['b']), 'b=200');
    assert.equal(await prices(['a', 'd']), 'a=100 d=400');
    assert.equal(await prices(['c', 'b']), 'b=200 c=300');
    assert.equal(await prices(['a', 'b', 'c', 'd']), 'a=100 b=200 c=300 d=400');
    assert.equal(builds, 2 + 3, 'IN lists of 1, 2 and 4 values');
  });

  test('constants stay; a transaction runs the same compiled query; a rollback undoes it', async () => {
    await insert.execute(store.db, { rows: [product('a', 100), product('b', 200)] });
    await store.db.updateTable('products').set({ active: 0 }).execute();
    const r = await setPrice.execute(store.db, { price: 150, id: 'a' });
    assert.deepEqual(r.rows, [{ id: 'a', price_fen: 150, active: 1 }]);
    await store.db.transaction().execute(async (trx) => {
      const t = await setPrice.execute(trx, { price: 250, id: 'b' });
      assert.deepEqual(t.rows, [{ id: 'b', price_fen: 250, active: 1 }]);
    });
    await assert.rejects(
      store.db.transaction().execute(async (trx) => {
        await setPrice.execute(trx, { price: 999, id: 'a' });
        throw new Error('roll back');
      }),
      /roll back/,
    );
    assert.equal(await prices(['a', 'b']), 'a=150 b=250');
    assert.equal(builds, 1 + 1 + 1, 'insert, set price, select: once each');
  });

  test('values are bound, never spliced into the SQL', async () => {
    const hostile = "x' OR '1'='1";
    await insert.execute(store.db, { rows: [product('a', 100)] });
    await insert.execute(store.db, { rows: [product(hostile, 1)] });
    assert.equal(await prices([hostile]), `${hostile}=1`);
    assert.equal(await prices(["nope' OR '1'='1"]), '');
  });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Store } from '../../src/store/index.js';
import { preparedQuery } from '../../src/store/prepared-query.js';
import { describeOnStores } from '../support/stores.js';

const at = '2026-12-01T00:00:00.000Z';

async function withUsers(store: Store, n: number): Promise<void> {
  await store.db
    .insertInto('users')
    .values(
      Array.from({ length: n }, (_, i) => ({
        id: `u${i}`,
        openid: `o${i}`,
        unionid: null,
        session_key: null,
        created_at: at,
        updated_at: at,
      })),
    )
    .execute();
}

const byOpenid = preparedQuery<{ openid: string }, { id: string; openid: string }>((db, p) =>
  db.selectFrom('users').select(['id', 'openid']).where('openid', '=', p('openid')),
);

const renameUnion = preparedQuery<{ id: string; unionid: string; at: string }, { id: string }>(
  (db, p) =>
    db
      .updateTable('users')
      .set({ unionid: p('unionid'), updated_at: p('at') })
      .where('id', '=', p('id'))
      // A fixed value stays as it was built, beside the named ones.
      .where('created_at', '=', at)
      .returning('id'),
);

describeOnStores('preparedQuery', (stores) => {
  test('runs the compiled statement with each call values, on the database and in a transaction', async () => {
    const store = await stores.fresh();
    await withUsers(store, 3);
    assert.deepEqual(await byOpenid(store.db, { openid: 'o1' }), [{ id: 'u1', openid: 'o1' }]);
    assert.deepEqual(await byOpenid(store.db, { openid: 'o2' }), [{ id: 'u2', openid: 'o2' }]);
    assert.deepEqual(await byOpenid(store.db, { openid: 'nobody' }), []);
    await store.db.transaction().execute(async (trx) => {
      assert.deepEqual(await renameUnion(trx, { id: 'u0', unionid: 'un0', at: 'later' }), [
        { id: 'u0' },
      ]);
      assert.deepEqual(await byOpenid(trx, { openid: 'o0' }), [{ id: 'u0', openid: 'o0' }]);
    });
    const row = await store.db
      .selectFrom('users')
      .select(['unionid', 'updated_at'])
      .where('id', '=', 'u0')
      .executeTakeFirstOrThrow();
    assert.deepEqual(row, { unionid: 'un0', updated_at: 'later' });
    // Values are bound, never spliced into the SQL.
    assert.deepEqual(await byOpenid(store.db, { openid: "o1' or '1'='1" }), []);
  });

  test('a parameter the built query does not use is refused when compiled', async () => {
    const store = await stores.fresh();
    const forgetful = preparedQuery<{ openid: string; extra: string }, { id: string }>((db, p) =>
      db.selectFrom('users').select('id').where('openid', '=', p('openid')),
    );
    await assert.rejects(
      forgetful(store.db, { openid: 'o', extra: 'x' }),
      /parameter extra is not in the compiled SQL/,
    );
  });
});

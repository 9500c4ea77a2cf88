import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openStore, redactUrl } from '../../src/store/index.js';
import { orderRow, userRow } from '../support/rows.js';
import { describeOnStores } from '../support/stores.js';

describeOnStores('store', (stores) => {
  test('migrations run once and are idempotent', async () => {
    const store = await stores.fresh();
    assert.deepEqual(await store.migrate(), []);
    assert.equal(await store.ping(), true);
  });

  test('unique keys refuse a second out_trade_no, openid and notification identity', async () => {
    const { db } = await stores.fresh();
    const at = new Date().toISOString();
    await db
      .insertInto('users')
      .values(userRow(at, 'u1', 'o1'))
      .execute();
    await assert.rejects(
      db
        .insertInto('users')
        .values(userRow(at, 'u2', 'o1'))
        .execute(),
    );
    const order = (id: string) =>
      orderRow(at, { id, out_trade_no: 'MP1', user_id: 'u1', openid: 'o1' });
    await db.insertInto('orders').values(order('o1')).execute();
    await assert.rejects(db.insertInto('orders').values(order('o2')).execute());
    const note = (id: string) => ({
      id,
      kind: 'payment',
      identity: 'tx1',
      order_id: null,
      out_trade_no: null,
      outcome: 'received',
      detail: null,
      received_count: 1,
      created_at: at,
      updated_at: at,
    });
    await db.insertInto('notifications').values(note('n1')).execute();
    await assert.rejects(db.insertInto('notifications').values(note('n2')).execute());
  });

  test('order events get increasing sequence numbers', async () => {
    const { db } = await stores.fresh();
    const at = new Date().toISOString();
    for (const id of ['e1', 'e2', 'e3']) {
      await db
        .insertInto('order_events')
        .values({ id, order_id: 'o', type: 't', payload: '{}', created_at: at })
        .execute();
    }
    const rows = await db.selectFrom('order_events').select(['id', 'seq']).orderBy('seq').execute();
    assert.deepEqual(
      rows.map((r) => r.id),
      ['e1', 'e2', 'e3'],
    );
    assert.equal(typeof rows[0]!.seq, 'number');
    assert.ok(rows[0]!.seq < rows[2]!.seq);
  });
});

test('openStore refuses an unknown URL with what to write instead', () => {
  assert.throws(() => openStore('mysql://x'), /sqlite: .* or postgres:\/\//);
});

test('redactUrl hides the password', () => {
  assert.equal(redactUrl('postgres://u:secret@h:5432/d'), 'postgres://u:***@h:5432/d');
});

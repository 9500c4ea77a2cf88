/**
 * Migration 0015: `order_events.order_id` becomes nullable (reconciliation events are about no
 * order). A database migrated up to the one before keeps its events, their `seq`s and indexes,
 * and new events number on from the old ones. On SQLite (a table rebuild) and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Kysely, Migrator } from 'kysely';
import { migrations, openStore } from '../../src/store/index.js';
import { describeOnStores } from '../support/stores.js';

const BEFORE = '0014_reconciliation_staging';

describeOnStores('migration 0015: events without an order', (stores) => {
  test('keeps the old events and seqs, takes a null order_id after', async (t) => {
    const store = openStore(await stores.freshUrl());
    t.after(() => store.close());
    const migrator = new Migrator({
      db: store.db as unknown as Kysely<unknown>,
      provider: { getMigrations: async () => migrations(store.dialect) },
      migrationTableName: 'minipay_migrations',
      migrationLockTableName: 'minipay_migrations_lock',
    });
    const to = await migrator.migrateTo(BEFORE);
    assert.equal(to.error, undefined);
    const old = ['evt_a', 'evt_b', 'evt_c'].map((id, i) => ({
      id,
      order_id: `ord_${i}`,
      type: 'order.paid',
      payload: '{"order":{}}',
      created_at: '2026-12-01T00:00:00.000Z',
      dispatched_at: i === 0 ? '2026-12-01T00:00:01.000Z' : null,
    }));
    await store.db.insertInto('order_events').values(old).execute();
    await assert.rejects(
      store.db
        .insertInto('order_events')
        .values({ ...old[0]!, id: 'evt_null', order_id: null })
        .execute(),
      'before 0015 an event must have an order',
    );

    assert.ok((await store.migrate()).includes('0015_outbox_subjects'));
    const kept = await store.db.selectFrom('order_events').selectAll().orderBy('seq').execute();
    assert.deepEqual(
      kept.map((r) => [Number(r.seq), r.id, r.order_id, r.dispatched_at]),
      old.map((r, i) => [i + 1, r.id, r.order_id, r.dispatched_at]),
    );
    await store.db
      .insertInto('order_events')
      .values({ ...old[0]!, id: 'evt_run', order_id: null, type: 'reconciliation.completed' })
      .execute();
    const added = await store.db
      .selectFrom('order_events')
      .select(['seq', 'order_id'])
      .where('id', '=', 'evt_run')
      .executeTakeFirstOrThrow();
    // PostgreSQL's sequence also spent a number on the insert refused above.
    assert.ok(Number(added.seq) > 3, `seq ${added.seq} follows the old events`);
    assert.equal(added.order_id, null);
    await assert.rejects(
      store.db.insertInto('order_events').values(old[1]!).execute(),
      'the id stays unique',
    );
    const tables = await store.db.introspection.getTables();
    assert.ok(!tables.some((table) => table.name === 'order_events_rebuilt'));
  });
});

/**
 * The sweeps' indexes hold only rows still waiting (migration 0019): a payment, a relayed event,
 * a finished upload or a sent message leaves its index instead of moving in it. The indexes are
 * partial on both stores, and on SQLite the sweeps still search them, not the table: the uploads'
 * and messages' queries captured as the product runs them, the order sweep's and the relay's
 * written as maintenance.ts and outbox.ts build them.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CompiledQuery, type KyselyPlugin, sql } from 'kysely';
import { dueMessages } from '../../src/payments/messages/subscribe-messages-repo.js';
import { dueUploads } from '../../src/payments/shipping/shipments-repo.js';
import type { Store } from '../../src/store/index.js';
import { describeOnStores } from '../support/stores.js';

const WAITING = {
  orders_status_next_query: /next_query_at\)? is not null/i,
  order_events_undispatched: /dispatched_at\)? is null/i,
  shipments_status_next_attempt: /next_attempt_at\)? is not null/i,
  subscribe_messages_due: /next_attempt_at\)? is not null/i,
};

async function indexDefinitions(store: Store): Promise<Map<string, string>> {
  const rows =
    store.dialect === 'postgres'
      ? (
          await sql<{ name: string; definition: string }>`
            select indexname as name, indexdef as definition from pg_indexes`.execute(store.db)
        ).rows
      : (
          await sql<{ name: string; definition: string | null }>`
            select name, sql as definition from sqlite_master where type = 'index'`.execute(
            store.db,
          )
        ).rows;
  return new Map(rows.map((r) => [r.name, r.definition ?? '']));
}

/** The SQL each call runs, as the store compiles it. */
async function captured(store: Store, run: (db: Store['db']) => Promise<unknown>) {
  const queries: CompiledQuery[] = [];
  const capture: KyselyPlugin = {
    transformQuery: (args) => {
      queries.push(store.db.getExecutor().compileQuery(args.node, args.queryId));
      return args.node;
    },
    transformResult: async (args) => args.result,
  };
  await run(store.db.withPlugin(capture));
  return queries;
}

async function sqlitePlan(store: Store, query: CompiledQuery): Promise<string> {
  const res = await store.db.executeQuery<{ detail: string }>(
    CompiledQuery.raw(`EXPLAIN QUERY PLAN ${query.sql}`, [...query.parameters]),
  );
  return res.rows.map((r) => r.detail).join(' | ');
}

describeOnStores('waiting rows only in the sweeps’ indexes', (stores) => {
  test('the four sweep indexes are partial', async () => {
    const store = await stores.fresh();
    const defs = await indexDefinitions(store);
    for (const [name, predicate] of Object.entries(WAITING)) {
      assert.match(defs.get(name) ?? '(missing)', predicate, name);
    }
  });
});

// PostgreSQL chooses its plans by statistics; on SQLite (no statistics) the plan is fixed.
describeOnStores(
  'the sweeps read their partial indexes',
  (stores) => {
    test('SQLite: the sweeps search their partial index', async () => {
      const store = await stores.fresh();
      const now = new Date();
      const [uploads] = await captured(store, (db) => dueUploads(db, now, 10));
      const [messages] = await captured(store, (db) => dueMessages(db, now, 10));
      const sweep = await captured(store, (db) =>
        db
          .selectFrom('orders')
          .selectAll()
          .where('status', '=', 'PENDING')
          .where('next_query_at', '<=', now.toISOString())
          .orderBy('next_query_at')
          .limit(10)
          .execute(),
      );
      const relay = await captured(store, (db) =>
        db
          .selectFrom('order_events')
          .selectAll()
          .where('dispatched_at', 'is', null)
          .orderBy('seq')
          .limit(10)
          .execute(),
      );
      assert.match(await sqlitePlan(store, uploads!), /USING INDEX shipments_status_next_attempt/);
      assert.match(await sqlitePlan(store, messages!), /USING INDEX subscribe_messages_due/);
      assert.match(await sqlitePlan(store, sweep[0]!), /USING INDEX orders_status_next_query/);
      assert.match(await sqlitePlan(store, relay[0]!), /order_events_undispatched/);
    });
  },
  ['sqlite'],
);

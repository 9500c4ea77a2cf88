/**
 * The one migration set, for SQLite and PostgreSQL alike. Append new migrations; never edit
 * one that has shipped.
 */
import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from 'kysely';
import type { Dialect } from './dialect.js';

type Db = Kysely<unknown>;

function initial(dialect: Dialect): Migration {
  const seq = dialect === 'postgres' ? 'serial' : 'integer';
  return {
    async up(db: Db) {
      await db.schema
        .createTable('users')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('openid', 'text', (c) => c.notNull().unique())
        .addColumn('unionid', 'text')
        .addColumn('session_key', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('sessions')
        .addColumn('token_hash', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('products')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('price_fen', 'integer', (c) => c.notNull())
        .addColumn('image_url', 'text')
        .addColumn('active', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('stock', 'integer')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('orders')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('out_trade_no', 'text', (c) => c.notNull().unique())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
        .addColumn('openid', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('total_fen', 'integer', (c) => c.notNull())
        .addColumn('currency', 'text', (c) => c.notNull())
        .addColumn('attach', 'text')
        .addColumn('payer_ip', 'text', (c) => c.notNull())
        .addColumn('prepay_id', 'text')
        .addColumn('prepay_expires_at', 'text')
        .addColumn('transaction_id', 'text', (c) => c.unique())
        .addColumn('paid_at', 'text')
        .addColumn('closed_at', 'text')
        .addColumn('refunded_fen', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('failure_code', 'text')
        .addColumn('failure_message', 'text')
        .addColumn('refund_required', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('query_attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_query_at', 'text')
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('orders_user_created')
        .on('orders')
        .columns(['user_id', 'created_at'])
        .execute();
      await db.schema
        .createIndex('orders_status_created')
        .on('orders')
        .columns(['status', 'created_at'])
        .execute();
      await db.schema
        .createTable('order_items')
        .addColumn('order_id', 'text', (c) => c.notNull().references('orders.id'))
        .addColumn('line_no', 'integer', (c) => c.notNull())
        .addColumn('product_id', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('unit_price_fen', 'integer', (c) => c.notNull())
        .addColumn('quantity', 'integer', (c) => c.notNull())
        .addColumn('amount_fen', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('order_items_pk', ['order_id', 'line_no'])
        .execute();
      await db.schema
        .createTable('idempotency_keys')
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('request_hash', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('resource_id', 'text')
        .addColumn('response_status', 'integer')
        .addColumn('response_body', 'text')
        .addColumn('locked_until', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('idempotency_keys_pk', ['scope', 'key'])
        .execute();
      await db.schema
        .createTable('order_events')
        .addColumn('seq', seq, (c) =>
          dialect === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey(),
        )
        .addColumn('id', 'text', (c) => c.notNull().unique())
        .addColumn('order_id', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('order_events_order')
        .on('order_events')
        .columns(['order_id', 'seq'])
        .execute();
      await db.schema
        .createTable('notifications')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('identity', 'text', (c) => c.notNull())
        .addColumn('order_id', 'text')
        .addColumn('out_trade_no', 'text')
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('detail', 'text')
        .addColumn('received_count', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('notifications_identity', ['kind', 'identity'])
        .execute();
      await db.schema
        .createTable('anomalies')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('order_id', 'text')
        .addColumn('out_trade_no', 'text')
        .addColumn('dedupe_key', 'text', (c) => c.notNull().unique())
        .addColumn('detail', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('resolved_at', 'text')
        .addColumn('resolution', 'text')
        .execute();
      await db.schema
        .createTable('gateway_calls')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('order_id', 'text')
        .addColumn('operation', 'text', (c) => c.notNull())
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('detail', 'text')
        .addColumn('duration_ms', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('gateway_calls_order')
        .on('gateway_calls')
        .columns(['order_id', 'created_at'])
        .execute();
      await db.schema
        .createTable('refunds')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('order_id', 'text', (c) => c.notNull().references('orders.id'))
        .addColumn('out_refund_no', 'text', (c) => c.notNull().unique())
        .addColumn('refund_id', 'text')
        .addColumn('amount_fen', 'integer', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('failure_code', 'text')
        .addColumn('failure_message', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('succeeded_at', 'text')
        .execute();
      await db.schema
        .createTable('webhook_deliveries')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('event_id', 'text', (c) => c.notNull())
        .addColumn('event_type', 'text', (c) => c.notNull())
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('last_attempt_at', 'text')
        .addColumn('next_attempt_at', 'text')
        .addColumn('last_status_code', 'integer')
        .addColumn('last_error', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('webhook_deliveries_event_url', ['event_id', 'url'])
        .execute();
    },
  };
}

/**
 * Refund follow-up and the outbox relay: when a refund is queried next, which events have been
 * handed to webhooks and subscribers, and when a delivery's retry window started.
 */
const refundsAndOutbox: Migration = {
  async up(db: Db) {
    await db.schema
      .alterTable('refunds')
      .addColumn('query_attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema.alterTable('refunds').addColumn('next_query_at', 'text').execute();
    await db.schema
      .createIndex('refunds_order')
      .on('refunds')
      .columns(['order_id', 'created_at'])
      .execute();
    await db.schema
      .createIndex('refunds_status_next_query')
      .on('refunds')
      .columns(['status', 'next_query_at'])
      .execute();
    await db.schema
      .createIndex('refunds_created')
      .on('refunds')
      .columns(['created_at', 'id'])
      .execute();
    await db.schema.alterTable('order_events').addColumn('dispatched_at', 'text').execute();
    // Events written before the relay existed are not sent now, a day or a year late.
    await db
      .updateTable('order_events' as never)
      .set({ dispatched_at: sql`created_at` } as never)
      .execute();
    await db.schema
      .createIndex('order_events_undispatched')
      .on('order_events')
      .columns(['dispatched_at', 'seq'])
      .execute();
    await db.schema
      .alterTable('webhook_deliveries')
      .addColumn('first_attempt_at', 'text')
      .execute();
    await db.schema
      .createIndex('webhook_deliveries_due')
      .on('webhook_deliveries')
      .columns(['status', 'next_attempt_at'])
      .execute();
    await db.schema
      .createIndex('webhook_deliveries_created')
      .on('webhook_deliveries')
      .columns(['created_at', 'id'])
      .execute();
  },
};

/**
 * Indexes for the admin console's reads: orders newest first (all, by openid), daily stats by
 * paid_at, events by type, an order's notifications and anomalies (its timeline), anomalies
 * by status.
 */
const adminIndexes: Migration = {
  async up(db: Db) {
    const indexes: [string, string, string[]][] = [
      ['orders_created', 'orders', ['created_at', 'id']],
      ['orders_openid_created', 'orders', ['openid', 'created_at']],
      ['orders_paid_at', 'orders', ['paid_at']],
      ['refunds_status_succeeded', 'refunds', ['status', 'succeeded_at']],
      ['order_events_type_seq', 'order_events', ['type', 'seq']],
      ['notifications_order', 'notifications', ['order_id']],
      ['anomalies_order', 'anomalies', ['order_id']],
      ['anomalies_out_trade_no', 'anomalies', ['out_trade_no']],
      ['anomalies_created', 'anomalies', ['created_at', 'id']],
      ['anomalies_status_created', 'anomalies', ['status', 'created_at']],
    ];
    for (const [name, table, columns] of indexes) {
      await db.schema.createIndex(name).on(table).columns(columns).execute();
    }
  },
};

/**
 * Stock taken at checkout: how many units each order line took from its product's stock (0 for
 * unlimited products and for lines written before this migration), so that closing or failing
 * the order gives back exactly that.
 */
const orderItemStock: Migration = {
  async up(db: Db) {
    await db.schema
      .alterTable('order_items')
      .addColumn('stock_reserved', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
  },
};

/** Sessions by user, newest first (login keeps the newest few), and by expiry (the purge). */
const sessionIndexes: Migration = {
  async up(db: Db) {
    await db.schema
      .createIndex('sessions_user_created')
      .on('sessions')
      .columns(['user_id', 'created_at'])
      .execute();
    await db.schema.createIndex('sessions_expires').on('sessions').column('expires_at').execute();
  },
};

/**
 * WeChat's own timing (docs/wechat-rules.md): an order being closed waits as CLOSING with its
 * reason until WeChat confirms; a refund WeChat refused for now stays PENDING with why.
 */
const wechatFidelity: Migration = {
  async up(db: Db) {
    await db.schema.alterTable('orders').addColumn('close_reason', 'text').execute();
    await db.schema.alterTable('refunds').addColumn('retry_code', 'text').execute();
    await db.schema.alterTable('refunds').addColumn('retry_message', 'text').execute();
    await db.schema
      .createIndex('orders_status_next_query')
      .on('orders')
      .columns(['status', 'next_query_at'])
      .execute();
  },
};

/**
 * APIv3 (docs/wechatpay.md, "v2 → v3"): each order remembers the API it was made with, so an
 * order made under v2 is still queried, closed and refunded through v2 after the switch; and
 * the platform certificates one instance downloads are shared by all of them.
 */
const wechatpayV3: Migration = {
  async up(db: Db) {
    await db.schema
      .alterTable('orders')
      .addColumn('wechatpay_api', 'text', (c) => c.notNull().defaultTo('v2'))
      .execute();
    await db.schema
      .createTable('wechatpay_certificates')
      .addColumn('serial_no', 'text', (c) => c.primaryKey())
      .addColumn('pem', 'text', (c) => c.notNull())
      .addColumn('effective_time', 'text', (c) => c.notNull())
      .addColumn('expire_time', 'text', (c) => c.notNull())
      .addColumn('downloaded_at', 'text', (c) => c.notNull())
      .execute();
  },
};

/**
 * After the payment (issue 17): products flagged virtual (their orders are reported shipped at
 * PAID), one shipment per paid order with its upload to WeChat, and the mini program
 * access_token every instance shares, with its refresh lease and the day's call counts.
 */
const shipping: Migration = {
  async up(db: Db) {
    await db.schema
      .alterTable('products')
      .addColumn('virtual', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema
      .createTable('shipments')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('order_id', 'text', (c) => c.notNull().unique().references('orders.id'))
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('logistics_type', 'text')
      .addColumn('parcels', 'text', (c) => c.notNull())
      .addColumn('upload_time', 'text')
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('next_attempt_at', 'text')
      .addColumn('last_error_code', 'text')
      .addColumn('last_error', 'text')
      .addColumn('uploaded_at', 'text')
      .addColumn('receipt_confirmed_at', 'text')
      .addColumn('settled_at', 'text')
      .addColumn('version', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('shipments_status_next_attempt')
      .on('shipments')
      .columns(['status', 'next_attempt_at'])
      .execute();
    await db.schema
      .createTable('miniprogram_tokens')
      .addColumn('app_id', 'text', (c) => c.primaryKey())
      .addColumn('token', 'text')
      .addColumn('expires_at', 'text')
      .addColumn('lease_holder', 'text')
      .addColumn('lease_until', 'text')
      .addColumn('quota_day', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('normal_calls', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('forced_calls', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('last_forced_at', 'text')
      .execute();
  },
};

/**
 * Message push from WeChat (`/wechat/v1/events`): every push read is recorded once, by a key
 * of its content, so a push WeChat sends again (or a replay) is acknowledged without acting.
 */
const wechatPushes: Migration = {
  async up(db: Db) {
    await db.schema
      .createTable('wechat_pushes')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('dedupe_key', 'text', (c) => c.notNull().unique())
      .addColumn('event', 'text', (c) => c.notNull())
      .addColumn('transaction_id', 'text')
      .addColumn('order_id', 'text')
      .addColumn('outcome', 'text', (c) => c.notNull())
      .addColumn('message', 'text', (c) => c.notNull())
      .addColumn('sent_at', 'text', (c) => c.notNull())
      .addColumn('received_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('wechat_pushes_received')
      .on('wechat_pushes')
      .columns(['received_at', 'id'])
      .execute();
  },
};

/**
 * The user's profile (nickname, avatar, the phone number given with consent) and every
 * subscribe message sent on a payment or refund, once per event, with WeChat's answer.
 */
const profileAndMessages: Migration = {
  async up(db: Db) {
    await db.schema
      .createTable('user_profiles')
      .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id'))
      .addColumn('nickname', 'text')
      .addColumn('avatar_url', 'text')
      .addColumn('phone', 'text')
      .addColumn('phone_country_code', 'text')
      .addColumn('phone_granted_at', 'text')
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('subscribe_messages')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('event_id', 'text', (c) => c.notNull().unique())
      .addColumn('order_id', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('template_id', 'text', (c) => c.notNull())
      .addColumn('openid', 'text', (c) => c.notNull())
      .addColumn('outcome', 'text', (c) => c.notNull())
      .addColumn('code', 'text')
      .addColumn('detail', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('subscribe_messages_order')
      .on('subscribe_messages')
      .column('order_id')
      .execute();
  },
};

/**
 * Reconciliation (src/payments/reconciliation): a run per Beijing day with its totals, the
 * differences it found, and the entries a run stages (the bill's rows and the ledger's, keyed
 * for the merge join; empty between runs). Keys compare in code-unit order on both databases.
 */
function reconciliation(dialect: Dialect): Migration {
  const codeUnitText = dialect === 'postgres' ? sql`text collate "C"` : sql`text`;
  return {
    async up(db: Db) {
      await db.schema
        .createTable('reconciliation_runs')
        .addColumn('day', 'text', (c) => c.primaryKey())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('totals', 'text')
        .addColumn('differences', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('repaired', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('bill_sha256', 'text')
        .addColumn('fund_flow_sha256', 'text')
        .addColumn('error', 'text')
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('started_at', 'text', (c) => c.notNull())
        .addColumn('finished_at', 'text')
        .execute();
      await db.schema
        .createTable('reconciliation_items')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('day', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('order_id', 'text')
        .addColumn('out_trade_no', 'text')
        .addColumn('detail', 'text', (c) => c.notNull())
        .addColumn('bill', 'text')
        .addColumn('ledger', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('reconciliation_items_day')
        .on('reconciliation_items')
        .columns(['day', 'kind', 'key'])
        .execute();
      await db.schema
        .createTable('reconciliation_entries')
        .addColumn('day', 'text', (c) => c.notNull())
        .addColumn('src', 'integer', (c) => c.notNull())
        .addColumn('key', codeUnitText, (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('trade_no', 'text', (c) => c.notNull())
        .addColumn('wechat_no', 'text')
        .addColumn('app_id', 'text', (c) => c.notNull())
        .addColumn('mch_id', 'text', (c) => c.notNull())
        .addColumn('currency', 'text', (c) => c.notNull())
        .addColumn('amount', 'bigint', (c) => c.notNull())
        .addColumn('settle', 'bigint', (c) => c.notNull())
        .addColumn('fee', 'bigint', (c) => c.notNull())
        .addColumn('order_id', 'text')
        .addColumn('at', 'text')
        .addPrimaryKeyConstraint('reconciliation_entries_pk', ['day', 'src', 'key', 'seq'])
        .execute();
    },
  };
}

/**
 * Indexes that keep the console's reads fast at a million orders (BENCHMARKS.md, "Admin reads
 * as the shop grows"): daily stats read paid orders' amounts from the index alone; refunds by
 * when they succeeded likewise; a status filter pages newest first without sorting.
 */
const growthIndexes: Migration = {
  async up(db: Db) {
    const indexes: [string, string, string[]][] = [
      ['orders_paid_at', 'orders', ['paid_at', 'total_fen']],
      ['refunds_status_succeeded', 'refunds', ['status', 'succeeded_at', 'amount_fen']],
      ['orders_status_created', 'orders', ['status', 'created_at', 'id']],
    ];
    for (const [name, table, columns] of indexes) {
      await db.schema.dropIndex(name).execute();
      await db.schema.createIndex(name).on(table).columns(columns).execute();
    }
  },
};

/**
 * Shipping repairs (docs/shipping.md): a shipment remembers when its one correction was made;
 * what WeChat said of is_trade_managed is shared by every instance.
 */
const shippingRepairs: Migration = {
  async up(db: Db) {
    await db.schema.alterTable('shipments').addColumn('corrected_at', 'text').execute();
    await db.schema
      .createTable('platform_facts')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('value', 'text', (c) => c.notNull())
      .addColumn('checked_at', 'text', (c) => c.notNull())
      .execute();
  },
};

/**
 * Reconciliation stops staging in a shared table: the bill is staged apart from the store (since
 * then in the private database of the day's match thread, reconciliation/day-matcher.ts) and
 * the ledger is read from its own tables (ledger-repo.ts). The shared staging table goes.
 */
const reconciliationStaging: Migration = {
  async up(db: Db) {
    await db.schema.dropTable('reconciliation_entries').execute();
  },
};

/**
 * The outbox carries events that are about no order (reconciliation.completed / .mismatch):
 * `order_events.order_id` may be null. PostgreSQL drops the constraint in place; SQLite cannot
 * alter a column, so the table is rebuilt with the same rows, `seq`s and indexes.
 */
function outboxSubjects(dialect: Dialect): Migration {
  return {
    async up(db: Db) {
      if (dialect === 'postgres') {
        await sql`alter table order_events alter column order_id drop not null`.execute(db);
        return;
      }
      await sql`create table order_events_rebuilt (
        seq integer primary key autoincrement,
        id text not null unique,
        order_id text,
        type text not null,
        payload text not null,
        created_at text not null,
        dispatched_at text
      )`.execute(db);
      await sql`insert into order_events_rebuilt
        (seq, id, order_id, type, payload, created_at, dispatched_at)
        select seq, id, order_id, type, payload, created_at, dispatched_at
        from order_events order by seq`.execute(db);
      await sql`drop table order_events`.execute(db);
      await sql`alter table order_events_rebuilt rename to order_events`.execute(db);
      const indexes: [string, string[]][] = [
        ['order_events_order', ['order_id', 'seq']],
        ['order_events_undispatched', ['dispatched_at', 'seq']],
        ['order_events_type_seq', ['type', 'seq']],
      ];
      for (const [name, columns] of indexes) {
        await db.schema.createIndex(name).on('order_events').columns(columns).execute();
      }
    },
  };
}

/**
 * Subscribe messages WeChat could not take for now (busy, a frequency limit, no answer) are sent
 * again by a job: the message as built when the event came, attempts, when the next is due. A
 * row left `sending` by an older minipay never learns its outcome: it is marked failed.
 */
const subscribeRetries: Migration = {
  async up(db: Db) {
    await db.schema.alterTable('subscribe_messages').addColumn('message', 'text').execute();
    await db.schema
      .alterTable('subscribe_messages')
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema.alterTable('subscribe_messages').addColumn('next_attempt_at', 'text').execute();
    await db.schema.alterTable('subscribe_messages').addColumn('updated_at', 'text').execute();
    await sql`update subscribe_messages set outcome = 'failed', code = 'INTERRUPTED',
      detail = 'the send was under way when minipay was upgraded; its outcome is unknown'
      where outcome = 'sending'`.execute(db);
    await db.schema
      .createIndex('subscribe_messages_due')
      .on('subscribe_messages')
      .columns(['outcome', 'next_attempt_at'])
      .execute();
    await db.schema
      .createIndex('subscribe_messages_created')
      .on('subscribe_messages')
      .columns(['created_at', 'id'])
      .execute();
  },
};

/**
 * Avatars users upload (`POST /api/v1/me/avatar`): the image's bytes, its type as read from
 * them, served at `/api/v1/avatars/:id`. One per user: a new upload replaces the last.
 */
function userAvatars(dialect: Dialect): Migration {
  const binary = dialect === 'postgres' ? 'bytea' : 'blob';
  return {
    async up(db: Db) {
      await db.schema
        .createTable('user_avatars')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
        .addColumn('content_type', 'text', (c) => c.notNull())
        .addColumn('data', binary, (c) => c.notNull())
        .addColumn('size', 'integer', (c) => c.notNull())
        .addColumn('sha256', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('user_avatars_user')
        .on('user_avatars')
        .column('user_id')
        .execute();
    },
  };
}

/**
 * The platform-certificate download slot every instance shares: a download for an unknown
 * serial happens only by the instance whose conditional UPDATE moves `last_at` (one per
 * interval across instances, whatever unauthenticated messages name).
 */
const certificateDownloads: Migration = {
  async up(db: Db) {
    await db.schema
      .createTable('wechatpay_certificate_downloads')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('last_at', 'text', (c) => c.notNull())
      .execute();
  },
};

/**
 * Indexes a sweep reads only for rows still waiting (an order to query, an event to relay, an
 * upload or a message to send) now hold only those rows: a row leaves its index when its wait
 * ends instead of moving to another place in it, so a payment writes fewer index pages. Every
 * query on them names the column's comparison or `is null` the predicate needs.
 */
const waitingIndexes: Migration = {
  async up(db: Db) {
    const partial: [string, string, string[], string][] = [
      [
        'orders_status_next_query',
        'orders',
        ['status', 'next_query_at'],
        'next_query_at is not null',
      ],
      ['order_events_undispatched', 'order_events', ['seq'], 'dispatched_at is null'],
      [
        'shipments_status_next_attempt',
        'shipments',
        ['status', 'next_attempt_at'],
        'next_attempt_at is not null',
      ],
      [
        'subscribe_messages_due',
        'subscribe_messages',
        ['outcome', 'next_attempt_at'],
        'next_attempt_at is not null',
      ],
    ];
    for (const [name, table, columns, where] of partial) {
      await db.schema.dropIndex(name).execute();
      await db.schema
        .createIndex(name)
        .on(table)
        .columns(columns)
        .where(sql<boolean>`${sql.raw(where)}`)
        .execute();
    }
  },
};

/**
 * The receipt reminder WeChat takes once per payment (notify_confirm_receive): remembered, so
 * the console stops offering it and a second request is refused without asking WeChat.
 */
const receiptReminders: Migration = {
  async up(db: Db) {
    await db.schema.alterTable('shipments').addColumn('receipt_reminded_at', 'text').execute();
  },
};

/** Every migration, by name (names sort in the order they run). */
export function migrations(dialect: Dialect): Record<string, Migration> {
  return {
    '0001_initial': initial(dialect),
    '0002_refunds_outbox': refundsAndOutbox,
    '0003_admin_indexes': adminIndexes,
    '0004_order_item_stock': orderItemStock,
    '0005_session_indexes': sessionIndexes,
    '0006_wechat_fidelity': wechatFidelity,
    '0007_wechatpay_v3': wechatpayV3,
    '0008_shipping': shipping,
    '0009_wechat_pushes': wechatPushes,
    '0010_profile_messages': profileAndMessages,
    '0011_reconciliation': reconciliation(dialect),
    '0012_growth_indexes': growthIndexes,
    '0013_shipping_repairs': shippingRepairs,
    '0014_reconciliation_staging': reconciliationStaging,
    '0015_outbox_subjects': outboxSubjects(dialect),
    '0016_subscribe_retries': subscribeRetries,
    '0017_user_avatars': userAvatars(dialect),
    '0018_certificate_downloads': certificateDownloads,
    '0019_waiting_indexes': waitingIndexes,
    '0020_receipt_reminders': receiptReminders,
  };
}

const MIGRATION_TABLE = 'minipay_migrations';

function migrator(db: Kysely<unknown>, dialect: Dialect): Migrator {
  const provider: MigrationProvider = { getMigrations: async () => migrations(dialect) };
  return new Migrator({
    db,
    provider,
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: 'minipay_migrations_lock',
  });
}

/** Where a database stands against the migrations this minipay knows. */
export interface SchemaState {
  /** Known migrations the database has. */
  applied: string[];
  /** Known migrations the database lacks. */
  pending: string[];
  /** Migrations the database has that this minipay does not know: a newer one migrated it. */
  unknown: string[];
}

/** Reads the migration table (an empty database has none); changes nothing. */
export async function schemaState(db: Kysely<unknown>, dialect: Dialect): Promise<SchemaState> {
  const known = Object.keys(migrations(dialect));
  const tables = await db.introspection.getTables();
  const done = tables.some((t) => t.name === MIGRATION_TABLE)
    ? (
        await (db as Kysely<Record<typeof MIGRATION_TABLE, { name: string }>>)
          .selectFrom(MIGRATION_TABLE)
          .select('name')
          .execute()
      ).map((r) => r.name)
    : [];
  const has = new Set(done);
  return {
    applied: known.filter((name) => has.has(name)),
    pending: known.filter((name) => !has.has(name)),
    unknown: done.filter((name) => !known.includes(name)).sort(),
  };
}

/** The database was migrated by a newer minipay; this one must not run on it. */
export class SchemaTooNewError extends Error {
  override readonly name = 'SchemaTooNewError';
  constructor(readonly unknown: string[]) {
    super(
      `the database schema is newer than this minipay: it has migration${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}, which this version does not know (a newer minipay migrated it). Run that newer version (or a later one) instead; an older minipay must not write to a newer schema.`,
    );
  }
}

/** Runs the pending migrations; throws with the failing migration's name. */
export async function migrateToLatest(db: Kysely<unknown>, dialect: Dialect): Promise<string[]> {
  const { unknown } = await schemaState(db, dialect);
  if (unknown.length > 0) throw new SchemaTooNewError(unknown);
  const { error, results } = await migrator(db, dialect).migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error) {
    const name = failed ? ` (${failed.migrationName})` : '';
    throw new Error(`database migration failed${name}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/**
 * Seeds a migrated store with orders numbered `from` to `to - 1` and what they leave behind, in
 * the database itself (INSERT … SELECT over a number series: a million orders in tens of
 * seconds, no rows through Node): one order every 31 s from 2026-01-01 (a year is ~1M orders),
 * 50,000 buyers, one or two lines each, and by number: 70 % PAID, 10 % REFUNDED (one SUCCESS
 * refund), 10 % CLOSED, 10 % PENDING; every order its `order.created` event, every paid one its
 * `order.paid` event and its payment notify. Calling it again with the next range grows the
 * same database (10k → 100k → 1M).
 */
import { sql } from 'kysely';
import type { Store } from '../../src/store/index.js';

export const BUYERS = 50_000;
/** Seconds between two orders. */
const STEP = 31;
const EPOCH = Date.UTC(2026, 0, 1) / 1000;

/** The SQL that differs between SQLite and PostgreSQL. */
function dialect(store: Store) {
  const pg = store.dialect === 'postgres';
  return {
    /** A series of integers `i` from `from` to `to - 1`, as a FROM item. */
    series: (from: number, to: number) =>
      pg
        ? sql.raw(`generate_series(${from}, ${to - 1}) AS s(i)`)
        : sql.raw(
            `(WITH RECURSIVE n(i) AS (SELECT ${from} UNION ALL SELECT i + 1 FROM n WHERE i < ${to - 1}) SELECT i FROM n) AS s`,
          ),
    /** ISO text of `seconds` after EPOCH (an SQL expression of i). */
    iso: (seconds: string) =>
      pg
        ? sql.raw(
            `to_char(to_timestamp(${EPOCH} + ${seconds}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`,
          )
        : sql.raw(`strftime('%Y-%m-%dT%H:%M:%fZ', ${EPOCH} + ${seconds}, 'unixepoch')`),
    pad: (expr: string) =>
      pg ? sql.raw(`lpad((${expr})::text, 12, '0')`) : sql.raw(`printf('%012d', ${expr})`),
  };
}

/** The status of order number i (an SQL CASE). */
const STATUS = sql.raw(
  `CASE WHEN i % 10 < 7 THEN 'PAID' WHEN i % 10 = 7 THEN 'REFUNDED' WHEN i % 10 = 8 THEN 'CLOSED' ELSE 'PENDING' END`,
);
const PAID = 'i % 10 < 8';

export async function seedGrowth(store: Store, from: number, to: number): Promise<void> {
  const d = dialect(store);
  const { db } = store;
  const created = d.iso(`i * ${STEP}`);
  const paidAt = d.iso(`i * ${STEP} + 60`);
  const no = d.pad('i');
  const buyer = d.pad(`i % ${BUYERS}`);
  await db.transaction().execute(async (trx) => {
    if (from === 0) {
      await sql`INSERT INTO users (id, openid, unionid, session_key, created_at, updated_at)
        SELECT 'usr_g' || ${d.pad('i')}, 'oGrowth' || ${d.pad('i')}, NULL, NULL, ${d.iso('0')}, ${d.iso('0')}
        FROM ${d.series(0, BUYERS)}`.execute(trx);
    }
    await sql`INSERT INTO orders (id, out_trade_no, user_id, openid, status, description, total_fen,
        currency, attach, payer_ip, prepay_id, prepay_expires_at, transaction_id, paid_at, closed_at,
        refunded_fen, failure_code, failure_message, refund_required, query_attempts, next_query_at,
        close_reason, expires_at, version, created_at, updated_at)
      SELECT 'ord_g' || ${no}, 'MPG' || ${no}, 'usr_g' || ${buyer}, 'oGrowth' || ${buyer}, ${STATUS},
        'minipay - Growth tea', 100 + i % 900, 'CNY', NULL, '127.0.0.1', 'wx' || ${no}, ${created},
        CASE WHEN ${sql.raw(PAID)} THEN '42' || ${no} END,
        CASE WHEN ${sql.raw(PAID)} THEN ${paidAt} END,
        CASE WHEN i % 10 = 8 THEN ${paidAt} END,
        CASE WHEN i % 10 = 7 THEN 100 + i % 900 ELSE 0 END, NULL, NULL, 0, 0,
        CASE WHEN i % 10 = 9 THEN ${paidAt} END,
        CASE WHEN i % 10 = 8 THEN 'expired' END,
        ${created}, 2, ${created}, ${paidAt}
      FROM ${d.series(from, to)}`.execute(trx);
    await sql`INSERT INTO order_items (order_id, line_no, product_id, name, unit_price_fen, quantity, amount_fen)
      SELECT 'ord_g' || ${no}, 1, 'prd_growth', 'Growth tea', 100 + i % 900, 1, 100 + i % 900
      FROM ${d.series(from, to)}`.execute(trx);
    await sql`INSERT INTO order_events (id, order_id, type, payload, created_at, dispatched_at)
      SELECT 'evt_gc' || ${no}, 'ord_g' || ${no}, 'order.created', '{"order":{}}', ${created}, ${created}
      FROM ${d.series(from, to)}`.execute(trx);
    await sql`INSERT INTO order_events (id, order_id, type, payload, created_at, dispatched_at)
      SELECT 'evt_gp' || ${no}, 'ord_g' || ${no}, 'order.paid', '{"order":{},"source":"notify"}', ${paidAt}, ${paidAt}
      FROM ${d.series(from, to)} WHERE ${sql.raw(PAID)}`.execute(trx);
    await sql`INSERT INTO notifications (id, kind, identity, order_id, out_trade_no, outcome, detail,
        received_count, created_at, updated_at)
      SELECT 'ntf_g' || ${no}, 'payment', 'MPG' || ${no} || ':42' || ${no}, 'ord_g' || ${no},
        'MPG' || ${no}, 'paid', 'OK', 1, ${paidAt}, ${paidAt}
      FROM ${d.series(from, to)} WHERE ${sql.raw(PAID)}`.execute(trx);
    await sql`INSERT INTO refunds (id, order_id, out_refund_no, refund_id, amount_fen, reason, status,
        source, failure_code, failure_message, created_at, updated_at, succeeded_at, query_attempts,
        next_query_at, retry_code, retry_message)
      SELECT 'rfd_g' || ${no}, 'ord_g' || ${no}, 'MRG' || ${no}, '50' || ${no}, 100 + i % 900, NULL,
        'SUCCESS', 'minipay', NULL, NULL, ${paidAt}, ${paidAt}, ${paidAt}, 1, NULL, NULL, NULL
      FROM ${d.series(from, to)} WHERE i % 10 = 7`.execute(trx);
  });
  // Statistics (and on PostgreSQL the visibility map, for index-only scans) as a database that
  // grew this big over months would have them: autovacuum has been by, a bulk load has not.
  await (store.dialect === 'postgres' ? sql`VACUUM ANALYZE` : sql`ANALYZE`).execute(db);
}

/** The Beijing date (YYYY-MM-DD) of the last of `size` seeded orders. */
export function lastOrderDay(size: number): string {
  const at = new Date((EPOCH + (size - 1) * STEP) * 1000 + 8 * 3600_000);
  return at.toISOString().slice(0, 10);
}

/**
 * What the admin console reads: orders (filtered, paged newest first), one order with its
 * refunds and timeline, anomalies, outbox events and daily totals. Filters arrive as the
 * raw query strings and are checked here, so a library user gets the same clear errors.
 */

import { type Kysely, PostgresAdapter, type SelectQueryBuilder, sql } from 'kysely';
import type {
  AdminEvent,
  AdminOrder,
  AdminOrderDetail,
  AdminOrderList,
  Anomaly,
  DailyTotals,
} from '../../contract/index.js';
import { maskPhone } from '../../miniprogram-api/index.js';
import type { Database, OrderStatus } from '../../store/schema.js';
import { anomalyView, parseJsonObject } from '../anomalies/anomaly-view.js';
import type { PaymentsContext } from '../context.js';
import { type EventType, isEventType } from '../events/events.js';
import {
  addDays,
  beijingDayOf,
  beijingDayStart,
  daysBetween,
  parseBound,
  parseDay,
} from '../lib/date-range.js';
import { notFound, validation } from '../lib/errors.js';
import {
  decodeSeqCursor,
  decodeTimeCursor,
  encodeSeqCursor,
  newestFirst,
  olderThan,
  parseLimit,
  timePage,
} from '../lib/page-cursor.js';
import { parseStatusFilter } from '../lib/status-filter.js';
import { ORDER_STATUSES } from '../orders/order-states.js';
import { adminOrderView, type OrderRow } from '../orders/order-view.js';
import { findOrder, itemsOfOrders } from '../orders/orders-repo.js';
import { findProfile } from '../profile/profiles-repo.js';
import { refundView } from '../refunds/refund-view.js';
import { findRefundsOfOrder } from '../refunds/refunds-repo.js';
import { loadTimeline } from './order-timeline.js';

/** `GET /admin/v1/orders` query parameters, as received. */
export interface OrderListQuery {
  status?: string;
  from?: string;
  to?: string;
  openid?: string;
  outTradeNo?: string;
  limit?: string | number;
  cursor?: string;
}

export interface AnomalyListQuery {
  status?: string;
  limit?: string | number;
  cursor?: string;
}

export interface EventListQuery {
  type?: string;
  orderId?: string;
  limit?: string | number;
  cursor?: string;
}

/** The longest range `stats/daily` answers, in days. */
export const MAX_STATS_DAYS = 366;
/** Without `from`, `stats/daily` covers this many days up to `to`. */
export const DEFAULT_STATS_DAYS = 30;

const OPENID = /^[A-Za-z0-9_-]{1,128}$/;
const OUT_TRADE_NO = /^[A-Za-z0-9_\-|*@]{1,32}$/;
const ID = /^[A-Za-z0-9_-]{1,64}$/;

export class AdminQueries {
  constructor(private readonly ctx: PaymentsContext) {}

  private get db(): Kysely<Database> {
    return this.ctx.db;
  }

  async listOrders(query: OrderListQuery = {}): Promise<AdminOrderList> {
    const limit = parseLimit(query.limit);
    const statuses = parseStatusFilter(query.status, ORDER_STATUSES);
    const from = query.from === undefined ? undefined : parseBound(query.from, 'from');
    const to = query.to === undefined ? undefined : parseBound(query.to, 'to');
    if (from !== undefined && to !== undefined && from >= to) {
      throw validation('from must be before to');
    }
    if (query.openid !== undefined && !OPENID.test(query.openid)) {
      throw validation('openid must be 1 to 128 letters, digits, _ or -');
    }
    if (query.outTradeNo !== undefined && !OUT_TRADE_NO.test(query.outTradeNo)) {
      throw validation('outTradeNo must be 1 to 32 letters, digits or _-|*@ (WeChat out_trade_no)');
    }
    let q = this.db.selectFrom('orders').selectAll();
    if (from !== undefined) q = q.where('created_at', '>=', from);
    if (to !== undefined) q = q.where('created_at', '<', to);
    if (query.openid !== undefined) q = q.where('openid', '=', query.openid);
    if (query.outTradeNo !== undefined) q = q.where('out_trade_no', '=', query.outTradeNo);
    const { page, nextCursor } =
      statuses && statuses.length > 1
        ? await this.newestOfStatuses(q, statuses, limit, query.cursor)
        : await newestFirst(
            'orders',
            statuses ? q.where('status', '=', statuses[0]!) : q,
            limit,
            query.cursor,
          );
    return { orders: await this.views(page), nextCursor };
  }

  /**
   * A page of orders in any of `statuses`: one newest-first page per status, each read in order
   * from the (status, created_at, id) index, merged by the database. `status IN (…)` would
   * read every order of those statuses and sort them all.
   */
  private async newestOfStatuses(
    q: SelectQueryBuilder<Database, 'orders', OrderRow>,
    statuses: readonly OrderStatus[],
    limit: number,
    cursor: string | undefined,
  ) {
    const after = cursor === undefined ? undefined : decodeTimeCursor('orders', cursor);
    const pageOf = (status: OrderStatus) => {
      let one = q.where('status', '=', status);
      if (after) one = one.where(olderThan(after));
      const sorted = one
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(limit + 1);
      return this.db.selectFrom(sorted.as('one')).selectAll();
    };
    const rows = await this.db
      .selectFrom(unionAll(statuses.map(pageOf)).as('any_status'))
      .selectAll()
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit + 1)
      .execute();
    return timePage('orders', rows as OrderRow[], limit);
  }

  async order(id: string): Promise<AdminOrderDetail> {
    const order = await this.find(id);
    const [views, refunds, timeline, profile] = await Promise.all([
      this.views([order]),
      findRefundsOfOrder(this.db, order.id),
      loadTimeline(this.db, order),
      findProfile(this.db, order.user_id),
    ]);
    const buyer = {
      nickname: profile?.nickname ?? null,
      phone: profile?.phone ? maskPhone(profile.phone) : null,
    };
    return { order: views[0]!, refunds: refunds.map(refundView), timeline, buyer };
  }

  /** The admin view of one order (404 when there is none). */
  async orderView(id: string): Promise<AdminOrder> {
    return (await this.views([await this.find(id)]))[0]!;
  }

  async listAnomalies(
    query: AnomalyListQuery = {},
  ): Promise<{ anomalies: Anomaly[]; nextCursor: string | null }> {
    const limit = parseLimit(query.limit);
    if (query.status !== undefined && query.status !== 'open' && query.status !== 'resolved') {
      throw validation(`status must be open or resolved, got "${query.status}"`);
    }
    let q = this.db.selectFrom('anomalies').selectAll();
    if (query.status !== undefined) q = q.where('status', '=', query.status);
    const { page, nextCursor } = await newestFirst('anomalies', q, limit, query.cursor);
    return { anomalies: page.map(anomalyView), nextCursor };
  }

  async listEvents(
    query: EventListQuery = {},
  ): Promise<{ events: AdminEvent[]; nextCursor: string | null }> {
    const limit = parseLimit(query.limit);
    let type: EventType | undefined;
    if (query.type !== undefined) {
      if (!isEventType(query.type)) {
        throw validation(`type must be an event type such as order.paid, got "${query.type}"`);
      }
      type = query.type;
    }
    if (query.orderId !== undefined && !ID.test(query.orderId)) {
      throw validation('orderId must be an order id (ord_…)');
    }
    const before = query.cursor === undefined ? undefined : decodeSeqCursor('events', query.cursor);
    let q = this.db
      .selectFrom('order_events')
      .selectAll()
      .orderBy('seq', 'desc')
      .limit(limit + 1);
    if (type !== undefined) q = q.where('type', '=', type);
    if (query.orderId !== undefined) q = q.where('order_id', '=', query.orderId);
    if (before !== undefined) q = q.where('seq', '<', before);
    const rows = await q.execute();
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      events: page.map((e) => ({
        id: e.id,
        type: e.type,
        createdAt: e.created_at,
        orderId: e.order_id,
        data: parseJsonObject(e.payload),
      })),
      nextCursor: rows.length > limit && last ? encodeSeqCursor('events', Number(last.seq)) : null,
    };
  }

  /**
   * Paid orders (by when they were paid) and successful refunds (by when they succeeded) per
   * Beijing day, `from` to `to` inclusive, every day present (zeros when nothing happened).
   * Without `to`: today; without `from`: 30 days up to `to`.
   */
  async dailyStats(query: { from?: string; to?: string } = {}): Promise<{ days: DailyTotals[] }> {
    const to = query.to === undefined ? beijingDayOf(this.ctx.clock()) : parseDay(query.to, 'to');
    const from =
      query.from === undefined ? addDays(to, 1 - DEFAULT_STATS_DAYS) : parseDay(query.from, 'from');
    const span = daysBetween(from, to) + 1;
    if (span < 1) throw validation(`from (${from}) must not be after to (${to})`);
    if (span > MAX_STATS_DAYS) {
      throw validation(`at most ${MAX_STATS_DAYS} days at once; this range has ${span}`);
    }
    const days: DailyTotals[] = [];
    const bounds: [string, string][] = [];
    for (let i = 0; i < span; i++) {
      const date = addDays(from, i);
      days.push({ date, paidCount: 0, paidFen: 0, refundedFen: 0 });
      bounds.push([
        beijingDayStart(date)!.toISOString(),
        beijingDayStart(addDays(date, 1))!.toISOString(),
      ]);
    }
    const { paid, refunded } = await withoutParallelWorkers(this.db, (db) => dailySums(db, bounds));
    for (const row of paid) {
      const day = days[Number(row.day)]!;
      day.paidCount = Number(row.n);
      day.paidFen = Number(row.fen ?? 0);
    }
    for (const row of refunded) days[Number(row.day)]!.refundedFen = Number(row.fen ?? 0);
    return { days };
  }

  private async find(id: string): Promise<OrderRow> {
    const order = ID.test(id) ? await findOrder(this.db, id) : undefined;
    if (!order) throw notFound('order');
    return order;
  }

  /** Admin views of `orders`, their items read in one query. */
  private async views(orders: OrderRow[]): Promise<AdminOrder[]> {
    if (orders.length === 0) return [];
    const byOrder = await itemsOfOrders(
      this.db,
      orders.map((o) => o.id),
    );
    return orders.map((o) => adminOrderView(o, byOrder.get(o.id) ?? []));
  }
}

/** The union of `queries` (at least one), as one statement. */
function unionAll<DB, TB extends keyof DB, O>(queries: SelectQueryBuilder<DB, TB, O>[]) {
  const [first, ...rest] = queries;
  return rest.reduce((all, next) => all.unionAll(next), first!);
}

/**
 * Paid orders and successful refunds summed per range of `bounds`. One range per Beijing day,
 * each summed from an index alone ((paid_at, total_fen) and (status, succeeded_at, amount_fen)),
 * all days in one statement: no row is grouped. At most MAX_STATS_DAYS branches (SQLite allows
 * 500 in one compound SELECT).
 */
async function dailySums(db: Kysely<Database>, bounds: [string, string][]) {
  const paid = await unionAll(
    bounds.map(([start, end], i) =>
      db
        .selectFrom('orders')
        .select((eb) => [
          sql.lit(i).as('day'),
          eb.fn.countAll<number | string>().as('n'),
          eb.fn.sum<number | string | null>('total_fen').as('fen'),
        ])
        .where('paid_at', '>=', start)
        .where('paid_at', '<', end),
    ),
  ).execute();
  const refunded = await unionAll(
    bounds.map(([start, end], i) =>
      db
        .selectFrom('refunds')
        .select((eb) => [
          sql.lit(i).as('day'),
          eb.fn.sum<number | string | null>('amount_fen').as('fen'),
        ])
        .where('status', '=', 'SUCCESS')
        .where('succeeded_at', '>=', start)
        .where('succeeded_at', '<', end),
    ),
  ).execute();
  return { paid, refunded };
}

/**
 * Runs `work` on PostgreSQL in a transaction without parallel workers: for index-only sums over
 * tens of thousands of entries its planner starts workers that cost more than they save on a
 * small shared machine (BENCHMARKS.md, "Admin reads as the shop grows"). SQLite: as it is.
 */
function withoutParallelWorkers<T>(
  db: Kysely<Database>,
  work: (db: Kysely<Database>) => Promise<T>,
): Promise<T> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return work(db);
  return db.transaction().execute(async (trx) => {
    await sql`SET LOCAL max_parallel_workers_per_gather = 0`.execute(trx);
    return work(trx);
  });
}

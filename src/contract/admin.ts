/** What the admin console reads: orders with their timeline, outbox events, daily totals. */
import { type Static, Type } from 'typebox';
import { DateTime, FreeForm, filter, Nullable, Page, pageQuery, ref } from './common.js';
import { AdminOrder } from './orders.js';
import { Refund } from './refunds.js';

export const AdminOrderListQuery = Type.Object(
  {
    status: filter(200, 'comma-separated statuses, e.g. PAID,REFUNDED'),
    from: filter(64, 'createdAt from: a Beijing date YYYY-MM-DD or an ISO-8601 time with a zone'),
    to: filter(64, 'createdAt to: a Beijing date (inclusive) or an ISO-8601 time (exclusive)'),
    openid: filter(128, "the payer's openid"),
    outTradeNo: filter(32, 'the merchant order number WeChat knows (out_trade_no)'),
    ...pageQuery,
  },
  { additionalProperties: false },
);
export type AdminOrderListQuery = Static<typeof AdminOrderListQuery>;

export const AdminOrderList = Page('orders', ref(AdminOrder));
export type AdminOrderList = Static<typeof AdminOrderList>;

export const AdminOrderAnswer = Type.Object({ order: ref(AdminOrder) });
export type AdminOrderAnswer = Static<typeof AdminOrderAnswer>;

/** One thing that happened to an order (docs/http-api.md "TimelineEntry"). */
export const TimelineEntry = Type.Object({
  at: DateTime(),
  kind: Type.String(),
  summary: Type.String(),
  data: FreeForm('free-form JSON, never secrets'),
});
export type TimelineEntry = Static<typeof TimelineEntry>;

export const AdminOrderDetail = Type.Object({
  order: ref(AdminOrder),
  refunds: Type.Array(ref(Refund)),
  timeline: Type.Array(TimelineEntry),
  /** What the buyer filled in and gave; the phone number masked (`138****5678`). */
  buyer: Type.Object({
    nickname: Nullable(Type.String()),
    phone: Nullable(Type.String()),
  }),
});
export type AdminOrderDetail = Static<typeof AdminOrderDetail>;

export const AdminEventListQuery = Type.Object(
  {
    type: filter(64, 'an event type, e.g. order.paid'),
    orderId: filter(64, 'an order id'),
    ...pageQuery,
  },
  { additionalProperties: false },
);
export type AdminEventListQuery = Static<typeof AdminEventListQuery>;

/** An outbox event as the admin API lists it: the webhook's Event plus its order's id (null for a reconciliation event). */
export const AdminEvent = Type.Object({
  id: Type.String(),
  type: Type.String(),
  createdAt: DateTime(),
  orderId: Nullable(Type.String()),
  data: FreeForm('the event as webhooks carry it'),
});
export type AdminEvent = Static<typeof AdminEvent>;

export const AdminEventList = Page('events', AdminEvent);
export type AdminEventList = Static<typeof AdminEventList>;

export const DailyStatsQuery = Type.Object(
  {
    from: filter(32, 'first Beijing date, YYYY-MM-DD (default: 29 days before to)'),
    to: filter(32, 'last Beijing date, YYYY-MM-DD (default: today in Beijing)'),
  },
  { additionalProperties: false },
);
export type DailyStatsQuery = Static<typeof DailyStatsQuery>;

/** Paid orders and successful refunds of one Beijing day. */
export const DailyTotals = Type.Object({
  date: Type.String(),
  paidCount: Type.Integer(),
  paidFen: Type.Integer(),
  refundedFen: Type.Integer(),
});
export type DailyTotals = Static<typeof DailyTotals>;

export const DailyStats = Type.Object({ days: Type.Array(DailyTotals) });
export type DailyStats = Static<typeof DailyStats>;

/** TypeBox schemas of the admin read/operate API (docs/http-api.md "Admin API"). */
import { Type } from '@fastify/type-provider-typebox';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) =>
  Type.Union([t, Type.Null()]);

/** The domain checks the values and says what is wrong; these only bound the sizes. */
const text = (maxLength: number, description: string) =>
  Type.Optional(Type.String({ maxLength, description }));
const limit = text(10, 'page size, 1 to 100 (default 50)');
const cursor = text(300, 'nextCursor of the previous page');

export const AdminOrderListQuery = Type.Object(
  {
    status: text(200, 'comma-separated statuses, e.g. PAID,REFUNDED'),
    from: text(64, 'createdAt from: a Beijing date YYYY-MM-DD or an ISO-8601 time with a zone'),
    to: text(64, 'createdAt to: a Beijing date (inclusive) or an ISO-8601 time (exclusive)'),
    openid: text(128, "the payer's openid"),
    outTradeNo: text(32, 'the merchant order number WeChat knows (out_trade_no)'),
    limit,
    cursor,
  },
  { additionalProperties: false },
);

export const AdminOrderList = Type.Object({
  orders: Type.Array(Type.Ref('AdminOrder')),
  nextCursor: Nullable(Type.String()),
});

export const AdminOrderAnswer = Type.Object({ order: Type.Ref('AdminOrder') });

export const TimelineEntry = Type.Object({
  at: Type.String({ format: 'date-time' }),
  kind: Type.String(),
  summary: Type.String(),
  data: Type.Unknown({ description: 'free-form JSON, never secrets' }),
});

export const AdminOrderDetail = Type.Object({
  order: Type.Ref('AdminOrder'),
  refunds: Type.Array(Type.Ref('Refund')),
  timeline: Type.Array(TimelineEntry),
});

export const AdminEventListQuery = Type.Object(
  {
    type: text(64, 'an event type, e.g. order.paid'),
    orderId: text(64, 'an order id'),
    limit,
    cursor,
  },
  { additionalProperties: false },
);

export const AdminEventList = Type.Object({
  events: Type.Array(
    Type.Object({
      id: Type.String(),
      type: Type.String(),
      createdAt: Type.String({ format: 'date-time' }),
      orderId: Type.String(),
      data: Type.Unknown(),
    }),
  ),
  nextCursor: Nullable(Type.String()),
});

export const AnomalyListQuery = Type.Object(
  { status: text(16, 'open or resolved'), limit, cursor },
  { additionalProperties: false },
);

export const AnomalyList = Type.Object({
  anomalies: Type.Array(Type.Ref('Anomaly')),
  nextCursor: Nullable(Type.String()),
});

export const AnomalyIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

export const ResolveBody = Type.Object(
  { note: Type.String({ minLength: 1, maxLength: 1000, description: 'what was done about it' }) },
  { additionalProperties: false },
);

export const AnomalyAnswer = Type.Object({ anomaly: Type.Ref('Anomaly') });

export const DailyStatsQuery = Type.Object(
  {
    from: text(32, 'first Beijing date, YYYY-MM-DD (default: 29 days before to)'),
    to: text(32, 'last Beijing date, YYYY-MM-DD (default: today in Beijing)'),
  },
  { additionalProperties: false },
);

export const DailyStats = Type.Object({
  days: Type.Array(
    Type.Object({
      date: Type.String(),
      paidCount: Type.Integer(),
      paidFen: Type.Integer(),
      refundedFen: Type.Integer(),
    }),
  ),
});

/** Refunds (docs/http-api.md "Refund", "Refunds"). */
import { type Static, Type } from 'typebox';
import { checkedPageQuery, DateTime, Failure, Nullable, OneOf, Page, ref } from './common.js';
import { AdminOrder } from './orders.js';
import { REFUND_SOURCES, REFUND_STATUSES } from './statuses.js';

export const Refund = Type.Object(
  {
    id: Type.String(),
    orderId: Type.String(),
    outRefundNo: Type.String(),
    refundId: Nullable(Type.String()),
    amountFen: Type.Integer(),
    reason: Nullable(Type.String()),
    status: OneOf(REFUND_STATUSES),
    source: OneOf(REFUND_SOURCES),
    createdAt: DateTime(),
    updatedAt: DateTime(),
    succeededAt: Nullable(DateTime()),
    failure: Nullable(Failure()),
    retry: Nullable(
      Type.Object(
        {
          code: Type.String(),
          message: Type.String(),
          attempts: Type.Integer(),
          nextAttemptAt: Nullable(DateTime()),
        },
        {
          description:
            'why a PENDING refund waits (WeChat refused it for now) and when it is sent again',
        },
      ),
    ),
  },
  { $id: 'Refund' },
);
export type Refund = Static<typeof Refund>;

export const RefundBody = Type.Object(
  {
    amountFen: Type.Integer({ minimum: 1, maximum: 10_000_000_000 }),
    reason: Type.Optional(
      Nullable(Type.String({ maxLength: 80, description: 'at most 80 bytes of UTF-8' })),
    ),
  },
  { additionalProperties: false },
);
export type RefundBody = Static<typeof RefundBody>;

export const RefundAnswer = Type.Object({ refund: ref(Refund), order: ref(AdminOrder) });
export type RefundAnswer = Static<typeof RefundAnswer>;

export const RefundOnly = Type.Object({ refund: ref(Refund) });
export type RefundOnly = Static<typeof RefundOnly>;

export const RefundListQuery = Type.Object(
  {
    status: Type.Optional(Type.String({ maxLength: 100 })),
    orderId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    ...checkedPageQuery,
  },
  { additionalProperties: false },
);
export type RefundListQuery = Static<typeof RefundListQuery>;

export const RefundList = Page('refunds', ref(Refund));
export type RefundList = Static<typeof RefundList>;

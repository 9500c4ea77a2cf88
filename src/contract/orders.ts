/** Orders and paying for them: the mini program API's shapes (docs/http-api.md "Order"). */
import { type Static, Type } from 'typebox';
import { checkedPageQuery, DateTime, Failure, Nullable, OneOf, Page, ref } from './common.js';
import { ORDER_STATUSES, type PaySignType } from './statuses.js';

export const OrderItem = Type.Object({
  productId: Type.String(),
  name: Type.String(),
  unitPriceFen: Type.Integer(),
  quantity: Type.Integer(),
  amountFen: Type.Integer(),
});
export type OrderItem = Static<typeof OrderItem>;

const orderFields = {
  id: Type.String(),
  outTradeNo: Type.String(),
  status: OneOf(ORDER_STATUSES),
  description: Type.String(),
  totalFen: Type.Integer(),
  currency: Type.String(),
  items: Type.Array(OrderItem),
  attach: Nullable(Type.String()),
  createdAt: DateTime(),
  updatedAt: DateTime(),
  expiresAt: DateTime(),
  paidAt: Nullable(DateTime()),
  closedAt: Nullable(DateTime()),
  transactionId: Nullable(Type.String()),
  refundedFen: Type.Integer(),
  failure: Nullable(Failure()),
};

export const Order = Type.Object(orderFields, { $id: 'Order' });
export type Order = Static<typeof Order>;

/** Admin answers add who ordered, whether the money must go back, and why it was closed. */
export const AdminOrder = Type.Object(
  {
    ...orderFields,
    openid: Type.String(),
    userId: Type.String(),
    refundRequired: Type.Boolean(),
    /** CLOSING and CLOSED orders: cancelled, expired, admin or closed_by_wechat. */
    closeReason: Nullable(Type.String()),
  },
  { $id: 'AdminOrder' },
);
export type AdminOrder = Static<typeof AdminOrder>;

/** Exactly what `wx.requestPayment` takes, plus the `appId` that was signed. */
export const PaymentParams = Type.Object(
  {
    appId: Type.String(),
    timeStamp: Type.String(),
    nonceStr: Type.String(),
    package: Type.String(),
    /** A string in the schema: the serializer need not check it on every checkout. */
    signType: Type.Unsafe<PaySignType>(Type.String()),
    paySign: Type.String(),
  },
  { $id: 'PaymentParams' },
);
export type PaymentParams = Static<typeof PaymentParams>;

/** One line of a checkout: the server prices it from its catalogue. */
export const CheckoutLine = Type.Object({
  productId: Type.String({ minLength: 1, maxLength: 64 }),
  quantity: Type.Integer({ minimum: 1, maximum: 99 }),
});
export type CheckoutLine = Static<typeof CheckoutLine>;

/** Prices a client sends are accepted and ignored (docs/http-api.md): they are listed here. */
const ignoredPrice = { description: 'ignored: prices come from the catalogue' };

export const CheckoutBody = Type.Object(
  {
    items: Type.Array(
      Type.Object(
        {
          ...CheckoutLine.properties,
          priceFen: Type.Optional(Type.Unknown(ignoredPrice)),
          unitPriceFen: Type.Optional(Type.Unknown(ignoredPrice)),
          amountFen: Type.Optional(Type.Unknown(ignoredPrice)),
          name: Type.Optional(Type.Unknown({ description: 'ignored' })),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 20 },
    ),
    attach: Type.Optional(Nullable(Type.String({ maxLength: 127 }))),
    totalFen: Type.Optional(Type.Unknown(ignoredPrice)),
  },
  { additionalProperties: false },
);
export type CheckoutBody = Static<typeof CheckoutBody>;

/** An order with what `wx.requestPayment` needs to pay it (null when the order FAILED). */
export const CheckoutAnswer = Type.Object({
  order: ref(Order),
  payment: Nullable(ref(PaymentParams)),
});
export type CheckoutAnswer = Static<typeof CheckoutAnswer>;

export const OrderAnswer = Type.Object({ order: ref(Order) });
export type OrderAnswer = Static<typeof OrderAnswer>;

export const PaymentAnswer = Type.Object({ order: ref(Order), payment: ref(PaymentParams) });
export type PaymentAnswer = Static<typeof PaymentAnswer>;

export const OrderList = Page('orders', ref(Order));
export type OrderList = Static<typeof OrderList>;

export const OrderListQuery = Type.Object(checkedPageQuery, { additionalProperties: false });
export type OrderListQuery = Static<typeof OrderListQuery>;

export const OrderQuery = Type.Object(
  { sync: Type.Optional(OneOf(['0', '1', 'true', 'false'])) },
  { additionalProperties: false },
);
export type OrderQuery = Static<typeof OrderQuery>;

/**
 * Shipping (docs/shipping.md): a paid order's shipment as the admin API, the client library and
 * the events `order.shipped`, `order.receipt_confirmed` and `order.settled` carry it.
 */
import { type Static, Type } from 'typebox';
import { DateTime, Failure, Nullable, OneOf, Page, pageQuery, ref } from './common.js';
import { AdminOrder } from './orders.js';
import { LOGISTICS_TYPES, SHIPMENT_KINDS, SHIPMENT_STATUSES } from './statuses.js';

/** WeChat's limits (docs/miniprogram-api.md, "Shipping information"). */
export const SHIPPING_MAX_PARCELS = 15;

export const Parcel = Type.Object({
  trackingNo: Type.Optional(Type.String()),
  /** A courier id of `GET /admin/v1/shipping/couriers` (e.g. `SF`). */
  expressCompany: Type.Optional(Type.String()),
  itemDesc: Type.String(),
  /** The receiver's phone, masked (`138****5678`), as WeChat gets it. */
  receiverContact: Type.Optional(Type.String()),
});
export type Parcel = Static<typeof Parcel>;

export const Shipment = Type.Object(
  {
    orderId: Type.String(),
    kind: OneOf(SHIPMENT_KINDS),
    status: OneOf(SHIPMENT_STATUSES),
    logisticsType: Nullable(OneOf(LOGISTICS_TYPES)),
    parcels: Type.Array(Parcel),
    /** Upload attempts so far. */
    attempts: Type.Integer(),
    nextAttemptAt: Nullable(DateTime()),
    /** WeChat's errcode (or minipay's code) and what to do, of the last failed attempt. */
    lastError: Nullable(Failure()),
    uploadedAt: Nullable(DateTime()),
    receiptConfirmedAt: Nullable(DateTime()),
    settledAt: Nullable(DateTime()),
    /** When WeChat's one correction of the uploaded info was made (or found spent). */
    correctedAt: Nullable(DateTime()),
    /** When WeChat took the one receipt reminder it allows (or said it was spent). */
    receiptRemindedAt: Nullable(DateTime()),
    createdAt: DateTime(),
    updatedAt: DateTime(),
  },
  { $id: 'Shipment' },
);
export type Shipment = Static<typeof Shipment>;

const text = (maxLength: number) => Type.String({ minLength: 1, maxLength });

/** `POST /admin/v1/orders/:id/ship`: one parcel (unified delivery) or several (split). */
export const ShipBody = Type.Object(
  {
    logisticsType: Type.Union([
      Type.Literal('express'),
      Type.Literal('same-city'),
      Type.Literal('pick-up'),
    ]),
    parcels: Type.Array(
      Type.Object(
        {
          trackingNo: Type.Optional(text(128)),
          expressCompany: Type.Optional(text(128)),
          /** Default: the order's items, `name*quantity` joined by `;`. */
          itemDesc: Type.Optional(text(120)),
          /** A phone number (masked before it is sent); WeChat requires one for SF. */
          receiverPhone: Type.Optional(Type.String({ pattern: '^[0-9+\\- ]{5,20}$' })),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: SHIPPING_MAX_PARCELS },
    ),
  },
  { additionalProperties: false },
);
export type ShipBody = Static<typeof ShipBody>;

/** `POST /admin/v1/orders/:id/shipment/remind-receipt`: WeChat took the reminder. */
export const RemindReceiptAnswer = Type.Object({ ok: Type.Literal(true), shipment: ref(Shipment) });
export type RemindReceiptAnswer = Static<typeof RemindReceiptAnswer>;

export const ShipmentAnswer = Type.Object({ shipment: ref(Shipment) });
export type ShipmentAnswer = Static<typeof ShipmentAnswer>;

/** An order awaiting shipment (or whose upload failed), with its shipment. */
export const ShippingQueueEntry = Type.Object({
  order: ref(AdminOrder),
  shipment: ref(Shipment),
});
export type ShippingQueueEntry = Static<typeof ShippingQueueEntry>;

export const ShippingQueueQuery = Type.Object(
  {
    status: Type.Optional(OneOf(SHIPMENT_STATUSES)),
    ...pageQuery,
  },
  { additionalProperties: false },
);
export type ShippingQueueQuery = Static<typeof ShippingQueueQuery>;

export const ShippingQueue = Page('entries', ShippingQueueEntry);
export type ShippingQueue = Static<typeof ShippingQueue>;

export const CourierList = Type.Object({
  couriers: Type.Array(Type.Object({ id: Type.String(), name: Type.String() })),
});
export type CourierList = Static<typeof CourierList>;

/** Whether WeChat manages this mini program's trades (is_trade_managed), as last asked. */
export const TradeManagement = Type.Object({
  managed: Nullable(Type.Boolean()),
  checkedAt: Nullable(DateTime()),
  /** Why it could not be asked (no AppSecret, WeChat refused), when it could not. */
  error: Nullable(Failure()),
});
export type TradeManagement = Static<typeof TradeManagement>;

/** `GET /admin/v1/shipping/check`: how many days back to look (default 7). */
export const ShippingCheckQuery = Type.Object(
  { days: Type.Optional(Type.String({ pattern: '^([1-9]|[12][0-9]|30)$' })) },
  { additionalProperties: false },
);
export type ShippingCheckQuery = Static<typeof ShippingCheckQuery>;

/**
 * WeChat's unshipped orders (get_order_list, order_state 1) paid in the window, against
 * minipay: those minipay does not know, and those it thinks are shipped.
 */
export const ShippingCheck = Type.Object({
  from: DateTime(),
  to: DateTime(),
  /** WeChat's unshipped orders read. */
  examined: Type.Integer(),
  /** false when the check stopped at its page limit before WeChat's last page. */
  complete: Type.Boolean(),
  findings: Type.Array(
    Type.Object({
      problem: Type.Union([Type.Literal('unknown_order'), Type.Literal('shipped_in_minipay')]),
      transactionId: Type.String(),
      merchantId: Type.String(),
      merchantTradeNo: Type.String(),
      paidAt: Nullable(DateTime()),
      /** minipay's order, when it knows it. */
      orderId: Nullable(Type.String()),
    }),
  ),
});
export type ShippingCheck = Static<typeof ShippingCheck>;

/** WeChat's own view of the order's shipping (get_order). */
export const WechatShippingView = Type.Object({
  state: Type.Integer(),
  stateName: Type.String(),
  finishShipping: Type.Boolean(),
  parcels: Type.Array(
    Type.Object({
      trackingNo: Nullable(Type.String()),
      expressCompany: Nullable(Type.String()),
      goodsDesc: Nullable(Type.String()),
    }),
  ),
});
export type WechatShippingView = Static<typeof WechatShippingView>;

/**
 * A paid order's delivery as the buyer sees it (`GET /api/v1/orders/:id/shipping`):
 * `preparing` until WeChat has the shipping info, `shipped`, then `received` once receipt is
 * confirmed. `confirmReceipt` is what `wx.openBusinessView` takes to let the buyer confirm
 * receipt in WeChat's own page, while it can (shipped, not yet confirmed).
 */
export const OrderShipping = Type.Object({
  stage: Type.Union([Type.Literal('preparing'), Type.Literal('shipped'), Type.Literal('received')]),
  logisticsType: Nullable(OneOf(LOGISTICS_TYPES)),
  parcels: Type.Array(
    Type.Object({
      trackingNo: Type.Optional(Type.String()),
      expressCompany: Type.Optional(Type.String()),
      itemDesc: Type.String(),
    }),
  ),
  shippedAt: Nullable(DateTime()),
  receiptConfirmedAt: Nullable(DateTime()),
  confirmReceipt: Nullable(
    Type.Object({
      businessType: Type.Literal('weappOrderConfirm'),
      extraData: Type.Object({ transaction_id: Type.String() }),
    }),
  ),
});
export type OrderShipping = Static<typeof OrderShipping>;

export const OrderShippingAnswer = Type.Object({ shipping: Nullable(OrderShipping) });
export type OrderShippingAnswer = Static<typeof OrderShippingAnswer>;

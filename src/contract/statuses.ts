/**
 * The value lists of the HTTP contract as plain constants. This file imports nothing, so the
 * mini program client library and the web pages use the lists at run time without TypeBox;
 * the schemas beside it build their unions from them.
 */

/** docs/http-api.md "Order"; the transitions are payments/orders/order-states.ts. */
export const ORDER_STATUSES = [
  'CREATED',
  'PENDING',
  /** Being cancelled: no more payment; CLOSED once WeChat has closed the trade (or PAID). */
  'CLOSING',
  'PAID',
  'PARTIALLY_REFUNDED',
  'REFUNDED',
  'CLOSED',
  'FAILED',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** Orders the user has paid for (refunds happen later and do not undo the payment). */
export const PAID_STATUSES: readonly OrderStatus[] = ['PAID', 'PARTIALLY_REFUNDED', 'REFUNDED'];

/** Orders whose money can (still partly) go back. */
export const REFUNDABLE_STATUSES: readonly OrderStatus[] = ['PAID', 'PARTIALLY_REFUNDED'];

/**
 * PENDING: recorded, WeChat not yet known to have it (also while WeChat refuses it for now:
 * `retry` says why and when it is asked again); PROCESSING: accepted by WeChat (or the
 * request's answer was lost); SUCCESS / CHANGE / REFUNDCLOSE: WeChat's outcome; FAILED: WeChat
 * refused the request outright, or an admin gave it up.
 */
export const REFUND_STATUSES = [
  'PENDING',
  'PROCESSING',
  'SUCCESS',
  'CHANGE',
  'REFUNDCLOSE',
  'FAILED',
] as const;
export type RefundStatus = (typeof REFUND_STATUSES)[number];

/** `minipay`: asked for through minipay; `merchant_portal`: made outside, learnt by notify. */
export const REFUND_SOURCES = ['minipay', 'merchant_portal'] as const;
export type RefundSource = (typeof REFUND_SOURCES)[number];

export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed', 'dead'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export const ANOMALY_STATUSES = ['open', 'resolved'] as const;
export type AnomalyStatus = (typeof ANOMALY_STATUSES)[number];

/**
 * A day's reconciliation: running; matched (no open difference); differences; failed (why in
 * `error`, tried again); waiting (WeChat has not published the bill yet).
 */
export const RECONCILIATION_STATUSES = [
  'running',
  'matched',
  'differences',
  'failed',
  'waiting',
] as const;
export type ReconciliationStatus = (typeof RECONCILIATION_STATUSES)[number];

/** `wx.requestPayment`'s signType: MD5 or HMAC-SHA256 for APIv2, RSA for APIv3. */
export const PAY_SIGN_TYPES = ['MD5', 'HMAC-SHA256', 'RSA'] as const;
export type PaySignType = (typeof PAY_SIGN_TYPES)[number];

/**
 * A paid order's shipment (docs/shipping.md): AWAITING_SHIPMENT until the merchant ships a
 * physical order; UPLOADING while its shipping info goes to WeChat (retried); UPLOADED once
 * WeChat has it; FAILED when WeChat refused it or the retries ran out (an admin retries).
 */
export const SHIPMENT_STATUSES = ['AWAITING_SHIPMENT', 'UPLOADING', 'UPLOADED', 'FAILED'] as const;
export type ShipmentStatus = (typeof SHIPMENT_STATUSES)[number];

/** virtual: every item is a virtual product, reported at PAID; physical: the merchant ships. */
export const SHIPMENT_KINDS = ['virtual', 'physical'] as const;
export type ShipmentKind = (typeof SHIPMENT_KINDS)[number];

/** WeChat's `logistics_type`: express 1, same-city 2, virtual 3, pick-up 4. */
export const LOGISTICS_TYPES = ['express', 'same-city', 'virtual', 'pick-up'] as const;
export type LogisticsType = (typeof LOGISTICS_TYPES)[number];

/**
 * A subscribe message (docs/shipping.md "Subscribe messages"): pending (WeChat could not take
 * it for now; the next attempt is due at `nextAttemptAt`), sent, refused (WeChat's final
 * answer: the user did not subscribe, a value it refuses), failed (given up, or the setup).
 */
export const SUBSCRIBE_OUTCOMES = ['pending', 'sent', 'refused', 'failed'] as const;
export type SubscribeOutcome = (typeof SUBSCRIBE_OUTCOMES)[number];

export const SUBSCRIBE_KINDS = ['paid', 'refunded'] as const;
export type SubscribeKind = (typeof SUBSCRIBE_KINDS)[number];

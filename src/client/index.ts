/**
 * minipay's client library for mini programs (native wx, Taro, uni-app). No Node APIs: it is
 * bundled into the sample mini program (miniprogram/) and the browser demo. See docs/client.md.
 */
export { type CallbackApi, fromTaro, fromUni, fromWx, type WxApi } from './adapters.js';
export type {
  Checkout,
  CheckoutItem,
  Me,
  Order,
  OrderItem,
  OrderPage,
  OrderShipping,
  OrderStatus,
  PaymentParams,
  Product,
  Session,
} from './api-types.js';
export { PAID_STATUSES } from './api-types.js';
export {
  type CheckoutOptions,
  createMinipayClient,
  type MinipayClient,
  type MinipayClientOptions,
  type PayResult,
  resultOf,
} from './client.js';
export {
  type ClientErrorCode,
  isSafeToRetry,
  isUserCancel,
  MinipayError,
  PAYMENT_CANCEL_ERRMSG,
  PlatformCallError,
} from './errors.js';
export { newIdempotencyKey } from './idempotency-key.js';
export type {
  BusinessView,
  HttpMethod,
  Platform,
  PlatformRequest,
  PlatformResponse,
  RequestPaymentParams,
} from './platform.js';
export { DEFAULT_RETRY, type RetryPolicy } from './retry.js';
export { SANDBOX_OPENID_KEY, type SandboxedOptions, sandboxed } from './sandbox-platform.js';
export { SESSION_STORAGE_KEY } from './transport.js';

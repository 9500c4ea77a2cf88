/**
 * The shapes of minipay's mini program API (docs/http-api.md) as the client sees them: the
 * server's contract (src/contract), under the client's names. Types only, and the status lists
 * from the one contract file that imports nothing: the bundle carries no schema library.
 * Money is integer fen; times are ISO-8601 UTC strings.
 */
export type {
  CheckoutAnswer as Checkout,
  CheckoutLine as CheckoutItem,
  LoginAnswer as Session,
  Me,
  Order,
  OrderItem,
  OrderList as OrderPage,
  OrderShipping,
  PaymentParams,
  Product,
  SubscribeTemplates,
} from '../contract/index.js';
export { type OrderStatus, PAID_STATUSES } from '../contract/statuses.js';

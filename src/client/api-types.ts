/**
 * The shapes of minipay's mini program API (docs/http-api.md) as the client sees them.
 * Money is integer fen; times are ISO-8601 UTC strings.
 */

export type OrderStatus =
  | 'CREATED'
  | 'PENDING'
  /** Being cancelled: no more payment; CLOSED once WeChat has closed the trade (or PAID). */
  | 'CLOSING'
  | 'PAID'
  | 'PARTIALLY_REFUNDED'
  | 'REFUNDED'
  | 'CLOSED'
  | 'FAILED';

export interface OrderItem {
  productId: string;
  name: string;
  unitPriceFen: number;
  quantity: number;
  amountFen: number;
}

export interface Order {
  id: string;
  outTradeNo: string;
  status: OrderStatus;
  description: string;
  totalFen: number;
  currency: string;
  items: OrderItem[];
  attach: string | null;
  createdAt: string;
  updatedAt: string;
  expiresAt: string | null;
  paidAt: string | null;
  closedAt: string | null;
  transactionId: string | null;
  refundedFen: number;
  failure: { code: string; message: string } | null;
}

/** What the server signed for `wx.requestPayment` (`appId` is signed but not passed on). */
export interface PaymentParams {
  appId: string;
  timeStamp: string;
  nonceStr: string;
  package: string;
  signType: 'MD5' | 'HMAC-SHA256';
  paySign: string;
}

export interface Product {
  id: string;
  name: string;
  description: string | null;
  priceFen: number;
  imageUrl: string | null;
  active: boolean;
  stock: number | null;
}

/** A logged-in user's session, as the server issued it. */
export interface Session {
  token: string;
  expiresAt: string;
  user: { id: string };
}

/** One line of a checkout: the server prices it from its catalogue. */
export interface CheckoutItem {
  productId: string;
  quantity: number;
}

/** An order with what `wx.requestPayment` needs to pay it (null when the order FAILED). */
export interface Checkout {
  order: Order;
  payment: PaymentParams | null;
}

export interface OrderPage {
  orders: Order[];
  nextCursor: string | null;
}

/** Orders the user has paid for (refunds happen later and do not undo the payment). */
export const PAID_STATUSES: readonly OrderStatus[] = ['PAID', 'PARTIALLY_REFUNDED', 'REFUNDED'];

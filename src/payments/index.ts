/**
 * The payments domain: everything a merchant server does with orders, usable without the
 * HTTP server. `createPayments(context, login)` wires the services together.
 */
import { AdminActions } from './admin-actions.js';
import { AdminQueries } from './admin-queries.js';
import { Catalogue } from './catalogue.js';
import { Checkout } from './checkout.js';
import { Confirmation } from './confirmation.js';
import type { PaymentsContext } from './context.js';
import { LoginService, type WechatLogin } from './login-service.js';
import { Maintenance } from './maintenance.js';
import { OrdersService } from './orders-service.js';
import { RefundNotifications } from './refund-notifications.js';
import { Refunds } from './refunds.js';
import { TradeSync } from './trade-sync.js';

export type {
  AdminEventView,
  AdminOrderDetail,
  AdminOrderPage,
  DailyTotals,
  EventListQuery,
  OrderListQuery,
} from './admin-queries.js';
export type { AnomalyView } from './anomaly-view.js';
export { Catalogue, type ProductInput, type ProductView } from './catalogue.js';
export type { CheckoutAnswer, CheckoutInput } from './checkout.js';
export type { NotifyHandling, PaidResult, PaymentEvidence } from './confirmation.js';
export {
  DEFAULT_SETTINGS,
  noMetrics,
  type PaymentsContext,
  type PaymentsMetrics,
  type PaymentsSettings,
} from './context.js';
export { DomainError } from './errors.js';
export * from './gateway.js';
export {
  LoginCodeRejected,
  type LoginResult,
  type SessionUser,
  type WechatLogin,
} from './login-service.js';
export type { RunSummary } from './maintenance.js';
export type { TimelineEntry } from './order-timeline.js';
export type { AdminOrderView, OrderItemView, OrderView } from './order-view.js';
export type { RefundNotifyHandling, RefundNotifyResult } from './refund-notifications.js';
export {
  REFUND_STATUSES,
  type RefundSource,
  type RefundStatus,
  type RefundView,
  refundView,
} from './refund-view.js';
export type { RefundAnswer, RefundInput, RefundPage } from './refunds.js';

export interface Payments {
  readonly context: PaymentsContext;
  readonly login: LoginService;
  readonly catalogue: Catalogue;
  readonly checkout: Checkout;
  readonly orders: OrdersService;
  readonly confirmation: Confirmation;
  readonly trades: TradeSync;
  readonly maintenance: Maintenance;
  /** What the admin console reads. */
  readonly admin: AdminQueries;
  /** What the admin console changes (sync, close, resolve an anomaly). */
  readonly adminActions: AdminActions;
  readonly refunds: Refunds;
  readonly refundNotifications: RefundNotifications;
}

export function createPayments(context: PaymentsContext, wechatLogin: WechatLogin): Payments {
  const confirmation = new Confirmation(context);
  const trades = new TradeSync(context, confirmation);
  const checkout = new Checkout(context);
  const admin = new AdminQueries(context);
  const refunds = new Refunds(context);
  return {
    context,
    login: new LoginService(context, wechatLogin),
    catalogue: new Catalogue(context),
    checkout,
    orders: new OrdersService(context, checkout, trades),
    confirmation,
    trades,
    maintenance: new Maintenance(context, trades),
    admin,
    adminActions: new AdminActions(context, trades, admin),
    refunds,
    refundNotifications: new RefundNotifications(context, refunds, trades),
  };
}

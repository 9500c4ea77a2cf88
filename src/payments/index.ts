/**
 * The payments domain: everything a merchant server does with orders, usable without the
 * HTTP server. `createPayments(context, login)` wires the services together.
 */
import { AdminActions } from './admin/admin-actions.js';
import { AdminQueries } from './admin/admin-queries.js';
import { Catalogue } from './catalogue/catalogue.js';
import { Checkout } from './checkout/checkout.js';
import { Confirmation } from './confirmation/confirmation.js';
import { Maintenance } from './confirmation/maintenance.js';
import { TradeSync } from './confirmation/trade-sync.js';
import type { PaymentsContext } from './context.js';
import { EventBus, Outbox } from './events/outbox.js';
import { type WebhookSender, Webhooks } from './events/webhooks.js';
import { LoginService, type WechatLogin } from './login/login-service.js';
import { SubscribeMessages } from './messages/subscribe-messages.js';
import { OrdersService } from './orders/orders-service.js';
import { MessagePush } from './platform/message-push.js';
import type { MiniProgramPlatform } from './platform/platform.js';
import { Profiles } from './profile/profiles.js';
import { Reconciliation } from './reconciliation/reconciliation.js';
import { ReconciliationReports } from './reconciliation/reconciliation-reports.js';
import { RefundNotifications } from './refunds/refund-notifications.js';
import { Refunds } from './refunds/refunds.js';
import { Shipping } from './shipping/shipping.js';

export type {
  AdminEvent,
  AdminOrder,
  AdminOrderDetail,
  AdminOrderList,
  Anomaly,
  CheckoutAnswer,
  DailyTotals,
  Delivery,
  DeliveryStatus,
  LoginAnswer,
  Order,
  OrderItem,
  OrderList,
  Product,
  Refund,
  RefundAnswer,
  RefundList,
  RefundSource,
  RefundStatus,
  TimelineEntry,
} from '../contract/index.js';
export type { EventListQuery, OrderListQuery } from './admin/admin-queries.js';
export { Catalogue, type ProductInput } from './catalogue/catalogue.js';
export type { CheckoutInput } from './checkout/checkout.js';
export type { NotifyHandling, PaidResult, PaymentEvidence } from './confirmation/confirmation.js';
export {
  DEFAULT_SETTINGS,
  noMetrics,
  type PaymentsContext,
  type PaymentsMetrics,
  type PaymentsSettings,
  type WebhookSettings,
} from './context.js';
export type { EventType, MinipayEvent } from './events/events.js';
export { type BatchListener, EventBus, type EventListener, Outbox } from './events/outbox.js';
export {
  DEFAULT_WEBHOOK_RETRY,
  type RetrySchedule,
  scaleSchedule,
} from './events/webhook-retry.js';
export { fetchSender, type WebhookSender, Webhooks } from './events/webhooks.js';
export { openOrdersWithoutApi } from './gateway/api-coverage.js';
export * from './gateway/gateway.js';
export { DomainError } from './lib/errors.js';
export type { RunSummary } from './lib/run-summary.js';
export { LoginCodeRejected, type SessionUser, type WechatLogin } from './login/login-service.js';
export { SubscribeMessages } from './messages/subscribe-messages.js';
export {
  DEFAULT_SUBSCRIBE_RETRY,
  SUBSCRIBE_VALUES,
  type SubscribeRetry,
  type SubscribeSettings,
  type SubscribeTemplate,
} from './messages/subscribe-settings.js';
export { DbTokenStore } from './platform/access-token-repo.js';
export { MessagePush, type PushOutcome } from './platform/message-push.js';
export type { MiniProgramPlatform } from './platform/platform.js';
export type { PushSettings } from './platform/push-settings.js';
export { Profiles } from './profile/profiles.js';
export { addDays, beijingHour, dayOf, isDay } from './reconciliation/days.js';
export type { RunResult, RunTotals } from './reconciliation/reconciliation.js';
export type { RefundNotifyHandling, RefundNotifyResult } from './refunds/refund-notifications.js';
export { refundView } from './refunds/refund-view.js';
export type { RefundInput } from './refunds/refunds.js';
export { Shipping } from './shipping/shipping.js';
export { DEFAULT_SHIPPING, type ShippingSettings } from './shipping/shipping-settings.js';

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
  /** In-process subscribers: `payments.events.subscribe(event => …)` (at least once). */
  readonly events: EventBus;
  readonly outbox: Outbox;
  readonly webhooks: Webhooks;
  /** Shipping info to WeChat (docs/shipping.md); absent without the mini program platform. */
  readonly shipping: Shipping | undefined;
  /** Message push from WeChat (`/wechat/v1/events`). */
  readonly pushes: MessagePush;
  /** Subscribe messages on payment and refund; absent without the platform or templates. */
  readonly subscribeMessages: SubscribeMessages | undefined;
  /** The user's profile and phone number (`/api/v1/me`). */
  readonly profiles: Profiles;
  /** A day's WeChat bill against the ledger. */
  readonly reconciliation: Reconciliation;
  /** What the admin API reads of it, and runs asked for by a person. */
  readonly reconciliationReports: ReconciliationReports;
}

export function createPayments(
  context: PaymentsContext,
  wechatLogin: WechatLogin,
  options: { webhookSender?: WebhookSender; platform?: MiniProgramPlatform } = {},
): Payments {
  const confirmation = new Confirmation(context);
  const trades = new TradeSync(context, confirmation);
  const checkout = new Checkout(context);
  const admin = new AdminQueries(context);
  const refunds = new Refunds(context);
  const events = new EventBus();
  const shipping =
    options.platform && new Shipping(context, options.platform, context.settings.shipping);
  if (shipping) events.subscribeBatch((batch) => shipping.onEvents(batch));
  const subscribe = context.settings.subscribe;
  const subscribeMessages =
    options.platform && subscribe && new SubscribeMessages(context, options.platform, subscribe);
  if (subscribeMessages) events.subscribeBatch((batch) => subscribeMessages.onEvents(batch));
  const reconciliation = new Reconciliation(context, confirmation);
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
    events,
    outbox: new Outbox(context, events),
    webhooks: new Webhooks(context, options.webhookSender),
    shipping,
    pushes: new MessagePush(context, shipping),
    subscribeMessages,
    profiles: new Profiles(context, options.platform, {
      allowHttp: context.settings.allowHttpAvatars === true,
    }),
    reconciliation,
    reconciliationReports: new ReconciliationReports(context, reconciliation),
  };
}

/** What every payments service shares: the database, the gateway, a clock and settings. */
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { type Transactor, transactionPerUnit } from '../store/group-commit.js';
import type { Database } from '../store/schema.js';
import type { RetrySchedule } from './events/webhook-retry.js';
import type { PaymentGateway, RefundAccount, WechatPayApi } from './gateway/gateway.js';
import type { SubscribeRetry, SubscribeSettings } from './messages/subscribe-settings.js';
import type { PushSettings } from './platform/push-settings.js';
import type { ShippingSettings } from './shipping/shipping-settings.js';

export interface PaymentsSettings {
  /** Where WeChat sends payment notifications (…/wechatpay/v2/notify). */
  notifyUrl: string;
  /** Where WeChat sends refund notifications (…/wechatpay/v2/refund-notify); unset: the portal's. */
  refundNotifyUrl?: string;
  /** The same for orders made with APIv3 (…/wechatpay/v3/notify, …/v3/refund-notify). */
  v3NotifyUrl?: string;
  v3RefundNotifyUrl?: string;
  /** An unpaid order is closed after this long (WeChat needs at least 5 minutes). */
  orderTtlMs: number;
  /** How long a login token lasts. */
  sessionTtlMs: number;
  /** Sessions a user keeps: a login beyond them ends the oldest. */
  sessionsPerUser: number;
  /** Shown to the payer at the start of every order description. */
  storeName: string;
  /** unifiedorder attempts (same out_trade_no) before answering WECHATPAY_UNAVAILABLE. */
  prepayAttempts: number;
  /**
   * Refund attempts (same out_refund_no) while WeChat's answer is lost, before the refund is
   * left PROCESSING for the follow-up job (refundquery) to settle.
   */
  refundAttempts: number;
  /** First back-off between the attempts of a prepay or a refund (doubles each time). */
  retryDelayMs: number;
  /** Currency of every order (WeChat mini program payments: CNY). */
  currency: string;
  /** `?sync=1` asks WeChat about one order at most once in this long (this process; 0: always). */
  syncIntervalMs: number;
  /**
   * How much faster WeChat's clock runs than ours: 1 against WeChat, the sandbox's timeScale
   * against a time-scaled sandbox (demo mode). WeChat's delays (close 5 minutes after the
   * order, refunds a minute apart) are divided by it.
   */
  wechatTimeScale: number;
  /** Where refunds are paid from (v2 `refund_account`); WeChat's default when unset. */
  refundAccount?: RefundAccount;
  /** Where events are POSTed, and the signing secret(s); no webhooks when absent. */
  webhooks?: WebhookSettings;
  /** How shipping uploads are retried (tests shrink the waits). */
  shipping?: Partial<ShippingSettings>;
  /** Message push from WeChat (`/wechat/v1/events`); refused with 503 when absent. */
  push?: PushSettings;
  /** Subscribe messages on payment and refund success; none when absent. */
  subscribe?: SubscribeSettings;
  /** How subscribe messages WeChat could not take for now are sent again (tests shrink it). */
  subscribeRetry?: Partial<SubscribeRetry>;
  /** Accept `http:` avatar URLs (demo mode on loopback); https only otherwise. */
  allowHttpAvatars?: boolean;
}

/** Where events are POSTed and how they are signed (docs/webhooks.md). */
export interface WebhookSettings {
  urls: string[];
  /** The signing secret first; a second one while rotating (one `v1` each). */
  secrets: string[];
  retry?: RetrySchedule;
  /** A receiver must answer within this; default 10 s (docs/webhooks.md). */
  timeoutMs?: number;
  /** How many deliveries are in flight at once; default 8. */
  concurrency?: number;
}

/** Where WeChat notifies the payment of an order made with `api`. */
export function notifyUrlFor(settings: PaymentsSettings, api: WechatPayApi): string {
  return api === 'v3' ? (settings.v3NotifyUrl ?? settings.notifyUrl) : settings.notifyUrl;
}

/** Where WeChat notifies a refund of an order made with `api`; unset: the portal's. */
export function refundNotifyUrlFor(
  settings: PaymentsSettings,
  api: WechatPayApi,
): string | undefined {
  return api === 'v3' ? settings.v3RefundNotifyUrl : settings.refundNotifyUrl;
}

export const DEFAULT_SETTINGS: Omit<PaymentsSettings, 'notifyUrl'> = {
  orderTtlMs: 30 * 60_000,
  sessionTtlMs: 7 * 24 * 3600_000,
  sessionsPerUser: 10,
  storeName: 'minipay',
  prepayAttempts: 3,
  refundAttempts: 3,
  retryDelayMs: 200,
  currency: 'CNY',
  syncIntervalMs: 3000,
  wechatTimeScale: 1,
};

/** Counters the server exports as Prometheus metrics. */
export interface PaymentsMetrics {
  inc(name: string, labels?: Record<string, string>): void;
}

export interface PaymentsContext {
  db: Kysely<Database>;
  /**
   * How a payment notify's and a checkout's transactions run: the store's (`Store.transact`,
   * group commit on SQLite); unset, a transaction of its own on `db`.
   */
  transact?: Transactor;
  gateway: PaymentGateway;
  clock: () => Date;
  logger: Logger;
  settings: PaymentsSettings;
  metrics: PaymentsMetrics;
}

/** How a service runs a unit of work: the context's transactor, else a transaction per unit. */
export function transactorOf(ctx: PaymentsContext): Transactor {
  return ctx.transact ?? transactionPerUnit(ctx.db);
}

export const noMetrics: PaymentsMetrics = { inc: () => undefined };

/** Which of the domain's background work runs as jobs, and how often. */
import type { Job } from '../jobs/index.js';
import type { Payments, Shipping, SubscribeMessages } from '../payments/index.js';

/**
 * The order jobs: expiry, closing, pending sweep, refund follow-up, and the clean-ups of
 * idempotency keys and expired sessions.
 */
export function orderJobs(payments: Payments, intervalMs: number): Job[] {
  return [
    { name: 'minipay-expire-orders', intervalMs, run: () => payments.maintenance.expire() },
    { name: 'minipay-close-orders', intervalMs, run: () => payments.maintenance.close() },
    { name: 'minipay-sweep-pending', intervalMs, run: () => payments.maintenance.sweep() },
    { name: 'minipay-follow-up-refunds', intervalMs, run: () => payments.refunds.followUp() },
    {
      name: 'minipay-purge-idempotency-keys',
      intervalMs: Math.max(intervalMs, 3600_000),
      run: () => payments.checkout.purgeKeys(),
    },
    {
      name: 'minipay-purge-sessions',
      intervalMs: Math.max(intervalMs, 3600_000),
      run: () => payments.login.purgeExpired(),
    },
  ];
}

/**
 * Uploads due shipping info to WeChat (virtual orders at PAID, retries); once a minute, opens
 * the shipment of a recently paid order whose `order.paid` subscriber gave up; and keeps the
 * shared is_trade_managed answer fresh.
 */
function shippingJobs(shipping: Shipping, intervalMs: number): Job[] {
  return [
    { name: 'minipay-upload-shipping', intervalMs, run: () => shipping.uploadDue() },
    {
      name: 'minipay-sweep-shipments',
      intervalMs: Math.max(intervalMs, 60_000),
      run: () => shipping.sweepMissing(),
    },
    {
      name: 'minipay-check-trade-managed',
      intervalMs: Math.max(intervalMs, 5 * 60_000),
      run: () => shipping.refreshTradeManaged(),
    },
  ];
}

/** Sends due subscribe messages (queued at the event, and those WeChat could not take yet). */
function subscribeMessagesJob(messages: SubscribeMessages, intervalMs: number): Job {
  return { name: 'minipay-send-subscribe-messages', intervalMs, run: () => messages.sendDue() };
}

/**
 * The outbox jobs: relay events to webhooks and subscribers, deliver the webhooks, ship, send
 * subscribe messages.
 */
export function outboxJobs(payments: Payments, intervalMs: number): Job[] {
  // Fulfilment waits on these: they run at least every 2 s whatever the order jobs do.
  const every = Math.min(intervalMs, 2000);
  return [
    { name: 'minipay-relay-events', intervalMs: every, run: () => payments.outbox.drain() },
    {
      name: 'minipay-deliver-webhooks',
      intervalMs: every,
      run: () => payments.webhooks.deliverAll(),
    },
    ...(payments.shipping ? shippingJobs(payments.shipping, every) : []),
    ...(payments.subscribeMessages
      ? [subscribeMessagesJob(payments.subscribeMessages, every)]
      : []),
  ];
}

/**
 * Reconciliation: every quarter of an hour, the days whose WeChat bill is out and that have no
 * finished run (the previous Beijing day once it is 10:00 there, and any day missed).
 */
export function reconciliationJobs(payments: Payments): Job[] {
  return [
    {
      name: 'minipay-reconcile',
      intervalMs: 15 * 60_000,
      run: () => payments.reconciliation.catchUp(),
    },
  ];
}

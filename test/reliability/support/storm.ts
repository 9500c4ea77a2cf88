/**
 * The duplicate storm: N orders are checked out through the API and paid in the sandbox with
 * their notification held back; then each order's genuine, signed notify (the sandbox's own
 * bytes) is POSTed `copies` times at once. WeChat does deliver duplicates, sometimes within
 * milliseconds of each other; every copy must be acknowledged and the order paid exactly once.
 */
import type { PaymentParams } from '../../../src/payments/index.js';
import { decodeXml } from '../../../src/wechatpay/index.js';
import type { Demo } from '../../support/demo.js';
import { elapsedMs, inPool } from './pool.js';

export interface StormOptions {
  orders: number;
  copies: number;
  /** Orders whose copies are in flight at the same time. */
  parallelOrders: number;
}

export interface StormResult {
  orders: number;
  requests: number;
  /** HTTP status → how many answers had it. */
  statuses: Record<number, number>;
  /** Answers whose XML was not return_code SUCCESS. */
  notAcknowledged: number;
  paid: number;
  paidEvents: number;
  /** Orders with more than one order.paid event. */
  doublePaid: number;
  notificationsReceived: number;
  setupMs: number;
  stormMs: number;
}

interface Prepared {
  orderId: string;
  body: string;
}

/** Checks out and pays `n` orders (notifications held back); resolves to their notify bodies. */
export async function preparePaidOrders(demo: Demo, n: number, tag: string): Promise<Prepared[]> {
  const users = await Promise.all(Array.from({ length: 5 }, () => demo.login()));
  const paid = await inPool(
    Array.from({ length: n }, (_, i) => i),
    8,
    async (i) => {
      const user = users[i % users.length]!;
      const res = await demo.api('POST', '/api/v1/orders', {
        token: user.token,
        body: { items: [{ productId: 'prd_sample', quantity: 1 + (i % 5) }] },
        headers: { 'idempotency-key': `${tag}-${i}` },
      });
      if (res.status !== 201 || !res.json.order)
        throw new Error(`checkout: ${res.status} ${res.text}`);
      const payment = res.json.payment as PaymentParams;
      demo.sandbox.pay({ openid: user.openid, ...payment, notify: false });
      return { orderId: res.json.order.id, outTradeNo: res.json.order.outTradeNo };
    },
  );
  const bodies = new Map(demo.sandbox.notifications().map((n) => [n.outTradeNo, n.body]));
  return paid.map((p) => {
    const body = bodies.get(p.outTradeNo);
    if (!body) throw new Error(`the sandbox holds no notification for ${p.outTradeNo}`);
    return { orderId: p.orderId, body };
  });
}

/** Runs the storm against a demo and counts what the store holds afterwards. */
export async function duplicateStorm(demo: Demo, options: StormOptions): Promise<StormResult> {
  const setupStart = performance.now();
  const prepared = await preparePaidOrders(demo, options.orders, `storm-${Date.now()}`);
  const setupMs = elapsedMs(setupStart);
  const statuses: Record<number, number> = {};
  let notAcknowledged = 0;
  const url = `${demo.url}/wechatpay/v2/notify`;
  const stormStart = performance.now();
  await inPool(prepared, options.parallelOrders, async ({ body }) => {
    await Promise.all(
      Array.from({ length: options.copies }, async () => {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'text/xml' },
          body,
        });
        const text = await res.text();
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        if (!acknowledged(text)) notAcknowledged++;
      }),
    );
  });
  const stormMs = elapsedMs(stormStart);
  const ids = prepared.map((p) => p.orderId);
  const { db } = demo.launched.server.store;
  const paid = await db
    .selectFrom('orders')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('id', 'in', ids)
    .where('status', '=', 'PAID')
    .executeTakeFirstOrThrow();
  const events = await db
    .selectFrom('order_events')
    .select(['order_id', (eb) => eb.fn.countAll<number>().as('n')])
    .where('order_id', 'in', ids)
    .where('type', '=', 'order.paid')
    .groupBy('order_id')
    .execute();
  const received = await db
    .selectFrom('notifications')
    .select((eb) => eb.fn.sum<number>('received_count').as('n'))
    .where('order_id', 'in', ids)
    .executeTakeFirstOrThrow();
  return {
    orders: options.orders,
    requests: options.orders * options.copies,
    statuses,
    notAcknowledged,
    paid: Number(paid.n),
    paidEvents: events.reduce((sum, e) => sum + Number(e.n), 0),
    doublePaid: events.filter((e) => Number(e.n) > 1).length,
    notificationsReceived: Number(received.n),
    setupMs,
    stormMs,
  };
}

/** Whether a notify reply is WeChat's "received" (return_code SUCCESS). */
export function acknowledged(reply: string): boolean {
  try {
    return decodeXml(Buffer.from(reply)).return_code === 'SUCCESS';
  } catch {
    return false;
  }
}

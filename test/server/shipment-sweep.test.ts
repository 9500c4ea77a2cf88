/**
 * The shipment sweep (docs/shipping.md): a paid order whose `order.paid` subscriber gave up
 * (the outbox passes an event after 5 failures) has no shipment; the sweep opens it, the
 * upload job reports a virtual one, a physical one joins the merchant's queue. Rerunning it,
 * or two instances at once, opens each shipment once. On SQLite and PostgreSQL; the jobs are
 * run by hand.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { OrderStatus } from '../../src/contract/index.js';
import type { MinipayEvent } from '../../src/payments/events/events.js';
import { checkout, type Demo, eventually, startDemo } from '../support/demo.js';
import { describeOnStores } from '../support/stores.js';

const SHIPPING = { retryBaseMs: 20, retryCapMs: 100, maxAttempts: 4, sweepAfterMs: 0 };

async function start(t: Parameters<typeof startDemo>[0], url: string): Promise<Demo> {
  return startDemo(t, url, { shipping: SHIPPING, jobs: false });
}

/** The shipping subscriber fails on every order.paid while `broken.on`. */
function breakSubscriber(demo: Demo) {
  const shipping = demo.launched.server.payments.shipping!;
  const original = shipping.onEvents.bind(shipping);
  const broken = { on: true, failures: 0 };
  shipping.onEvents = async (events: readonly MinipayEvent[]) => {
    if (broken.on && events.some((e) => e.type === 'order.paid')) {
      broken.failures++;
      throw new Error('the database went away (a stub)');
    }
    return original(events);
  };
  return broken;
}

/** Pays an order of `productId` and relays its events with the subscriber failing: no shipment. */
async function paidWithoutShipment(demo: Demo, productId: string) {
  const broken = breakSubscriber(demo);
  const { token, openid } = await demo.login();
  const { order, payment } = await checkout(demo, token, productId, 1);
  demo.sandbox.pay({ openid, ...payment });
  const { store, payments } = demo.launched.server;
  await eventually(async () => {
    const row = await store.db
      .selectFrom('orders')
      .select('status')
      .where('id', '=', order.id)
      .executeTakeFirst();
    return row?.status === 'PAID';
  });
  for (let i = 0; i < 5; i++) await payments.outbox.relay();
  // Each run hands it the batch, then (the batch failed) the event alone: 5 runs, 10 failures.
  assert.equal(broken.failures, 10, 'the subscriber failed twice in each of 5 runs');
  const paidEvent = await store.db
    .selectFrom('order_events')
    .select('dispatched_at')
    .where('order_id', '=', order.id)
    .where('type', '=', 'order.paid')
    .executeTakeFirstOrThrow();
  assert.ok(paidEvent.dispatched_at, 'the outbox moved past order.paid');
  assert.equal(await payments.shipping!.shipment(order.id), null, 'no shipment');
  broken.on = false;
  return order;
}

async function shipmentCount(demo: Demo, orderId: string): Promise<number> {
  const rows = await demo.launched.server.store.db
    .selectFrom('shipments')
    .select('id')
    .where('order_id', '=', orderId)
    .execute();
  return rows.length;
}

describeOnStores('shipment sweep', (stores) => {
  test('a virtual order whose subscriber gave up is opened by the sweep, then uploaded', async (t) => {
    const demo = await start(t, await stores.freshUrl());
    const order = await paidWithoutShipment(demo, 'prd_member_month');
    const shipping = demo.launched.server.payments.shipping!;
    const swept = await shipping.sweepMissing();
    assert.deepEqual(swept, { examined: 1, changed: 1, errors: 0 });
    const opened = (await shipping.shipment(order.id))!;
    assert.equal(opened.kind, 'virtual');
    assert.equal(opened.status, 'UPLOADING');
    await shipping.uploadDue();
    assert.equal((await shipping.shipment(order.id))?.status, 'UPLOADED');
    const res = await fetch(`${demo.sandbox.url}/sandbox/v1/shipping/${order.outTradeNo}`);
    const wechat = (await res.json()) as { order: { order_state: number } };
    assert.equal(wechat.order.order_state, 2, 'WeChat: shipped');
    // Again: nothing is missing, nothing changes.
    assert.deepEqual(await shipping.sweepMissing(), { examined: 0, changed: 0, errors: 0 });
    assert.equal(await shipmentCount(demo, order.id), 1);
    assert.equal((await shipping.shipment(order.id))?.status, 'UPLOADED');
  });

  test('a physical one joins the awaiting-shipment queue', async (t) => {
    const demo = await start(t, await stores.freshUrl());
    const order = await paidWithoutShipment(demo, 'prd_tea_cup');
    const shipping = demo.launched.server.payments.shipping!;
    assert.equal((await shipping.sweepMissing()).changed, 1);
    const queue = await shipping.queue({ status: 'AWAITING_SHIPMENT' });
    assert.deepEqual(
      queue.entries.map((e) => e.order.id),
      [order.id],
    );
  });

  test('two instances sweeping at once open the shipment once', async (t) => {
    const url = await stores.freshUrl();
    const a = await start(t, url);
    const b = await start(t, url);
    const order = await paidWithoutShipment(a, 'prd_member_month');
    const runs = await Promise.all([
      a.launched.server.payments.shipping!.sweepMissing(),
      b.launched.server.payments.shipping!.sweepMissing(),
      a.launched.server.payments.shipping!.sweepMissing(),
    ]);
    assert.equal(
      runs.reduce((n, r) => n + r.changed, 0),
      1,
      'one run opened it',
    );
    assert.equal(
      runs.reduce((n, r) => n + r.errors, 0),
      0,
    );
    assert.equal(await shipmentCount(a, order.id), 1);
  });

  test('outside the window, refunded in full, or paid a moment ago: left alone', async (t) => {
    const demo = await startDemo(t, await stores.freshUrl(), {
      shipping: { ...SHIPPING, sweepAfterMs: 10 * 60_000 },
      jobs: false,
    });
    const order = await paidWithoutShipment(demo, 'prd_member_month');
    const { store, payments } = demo.launched.server;
    const shipping = payments.shipping!;
    assert.equal((await shipping.sweepMissing()).examined, 0, 'paid a moment ago');
    const setOrder = (set: { paid_at?: string; status?: OrderStatus }) =>
      store.db.updateTable('orders').set(set).where('id', '=', order.id).execute();
    await setOrder({ paid_at: new Date(Date.now() - 8 * 24 * 3600_000).toISOString() });
    assert.equal((await shipping.sweepMissing()).examined, 0, 'paid 8 days ago');
    await setOrder({ paid_at: new Date(Date.now() - 3600_000).toISOString(), status: 'REFUNDED' });
    assert.equal((await shipping.sweepMissing()).examined, 0, 'refunded in full');
    await setOrder({ status: 'PARTIALLY_REFUNDED' });
    assert.equal((await shipping.sweepMissing()).changed, 1, 'partly refunded: still shipped');
  });
});

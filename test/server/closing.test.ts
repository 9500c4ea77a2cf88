/**
 * Closing an order on WeChat's timing, through the real sandbox: closeorder is refused within
 * 5 minutes of the order and has been seen to answer SUCCESS without closing. The shopper's
 * cancel is CLOSING at once and CLOSED only once WeChat says the trade is CLOSED. The
 * invariant, raced: money taken by WeChat is never left on a CLOSED order.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Order, PaymentParams } from '../../src/payments/index.js';
import { type SandboxServer, startSandboxServer, until } from '../support/sandbox-server.js';
import { describeOnStores } from '../support/stores.js';

/** WeChat's 5 minutes. */
const CLOSE_MIN_AGE_MS = 5 * 60_000;
/**
 * WeChat's clock at real speed: the 5 minutes pass only when the test moves both clocks, never
 * because a loaded machine was slow (a scaled sandbox would pass them in 0.3 s).
 */
const REAL_TIME = { sandbox: { timeScale: 1 } };

let users = 0;

async function placeOrder(s: SandboxServer) {
  const openid = `oclose${process.pid}u${++users}`;
  const token = (await s.api('POST', '/api/v1/login', { body: { code: `code:${openid}` } })).json
    .token!;
  const res = await s.api('POST', '/api/v1/orders', {
    token,
    body: { items: [{ productId: 'prd_tea', quantity: 1 }] },
    headers: { 'idempotency-key': `closing-${process.pid}-${users}` },
  });
  assert.equal(res.status, 201, res.text);
  return { order: res.json.order!, payment: res.json.payment as PaymentParams, openid, token };
}

type Placed = Awaited<ReturnType<typeof placeOrder>>;

async function cancel(s: SandboxServer, id: string, token: string): Promise<Order> {
  const res = await s.api('POST', `/api/v1/orders/${id}/cancel`, { token });
  assert.equal(res.status, 200, res.text);
  return res.json.order!;
}

async function statusOf(s: SandboxServer, id: string) {
  const row = await s.server.store.db
    .selectFrom('orders')
    .select('status')
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
  return row.status;
}

/** Runs the close job `ms` later on both clocks (ours and WeChat's). */
async function closeJobLater(s: SandboxServer, ms: number) {
  s.clock.advance(ms);
  s.sandbox.advanceClock(ms);
  return s.server.payments.maintenance.close();
}

describeOnStores('closing an order on WeChat timing', (stores) => {
  test('cancel within 5 minutes: CLOSING, no payment parameters; CLOSED once WeChat closed it', async (t) => {
    const s = await startSandboxServer(t, await stores.freshUrl(), REAL_TIME);
    const { order, payment, openid, token } = await placeOrder(s);
    const cancelled = await cancel(s, order.id, token);
    assert.equal(cancelled.status, 'CLOSING');
    assert.equal(s.sandbox.trade(order.outTradeNo)!.tradeState, 'NOTPAY');
    const params = await s.api('POST', `/api/v1/orders/${order.id}/payment`, { token });
    assert.equal(params.status, 409);
    assert.equal(params.json.error?.code, 'ORDER_CLOSING');
    const run = await closeJobLater(s, CLOSE_MIN_AGE_MS);
    assert.deepEqual([run.examined, run.changed, run.errors], [1, 1, 0]);
    assert.equal(await statusOf(s, order.id), 'CLOSED');
    assert.equal(s.sandbox.trade(order.outTradeNo)!.tradeState, 'CLOSED');
    assert.throws(() => s.sandbox.pay({ ...payment, openid }), { code: 'ORDER_CLOSED' });
  });

  test('closeorder answers SUCCESS but the trade stays NOTPAY: CLOSING, and the late payment makes it PAID', async (t) => {
    const s = await startSandboxServer(t, await stores.freshUrl(), REAL_TIME);
    const { order, payment, openid, token } = await placeOrder(s);
    await cancel(s, order.id, token);
    await s.sandbox.setFaults({ closeLeavesNotpay: 1 });
    await closeJobLater(s, CLOSE_MIN_AGE_MS);
    assert.equal(await statusOf(s, order.id), 'CLOSING', 'never CLOSED on closeorder alone');
    // The shopper still had the parameters: WeChat takes the money.
    s.sandbox.pay({ ...payment, openid });
    await until(async () => (await statusOf(s, order.id)) === 'PAID');
    assert.equal((await closeJobLater(s, CLOSE_MIN_AGE_MS)).examined, 0);
  });

  test('a payment without a notify while CLOSING: the close job finds it, PAID', async (t) => {
    const s = await startSandboxServer(t, await stores.freshUrl(), REAL_TIME);
    const { order, payment, openid, token } = await placeOrder(s);
    await cancel(s, order.id, token);
    s.sandbox.pay({ ...payment, openid, notify: false });
    await closeJobLater(s, CLOSE_MIN_AGE_MS);
    assert.equal(await statusOf(s, order.id), 'PAID');
    assert.equal(s.sandbox.trade(order.outTradeNo)!.tradeState, 'SUCCESS');
  });

  test('answers without appid and mch_id (closeorder SUCCESS, orderquery NOTPAY) still close it', async (t) => {
    const s = await startSandboxServer(t, await stores.freshUrl(), {
      sandbox: {
        timeScale: 1,
        faults: { omitMerchantIdsRate: { '/pay/closeorder': 1, '/pay/orderquery': 1 } },
      },
    });
    const { order, token } = await placeOrder(s);
    await cancel(s, order.id, token);
    await closeJobLater(s, CLOSE_MIN_AGE_MS);
    assert.equal(await statusOf(s, order.id), 'CLOSED');
  });

  test('raced: 24 cancelled orders, payments and notifies racing closes that sometimes do not close; money is never left on a CLOSED order', async (t) => {
    const s = await startSandboxServer(t, await stores.freshUrl(), REAL_TIME);
    let seed = 20260314;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const placed: Placed[] = [];
    for (let i = 0; i < 24; i++) placed.push(await placeOrder(s));
    await Promise.all(placed.map((p) => cancel(s, p.order.id, p.token)));
    await s.sandbox.setFaults({ closeLeavesNotpay: 6 });
    const pay = (p: Placed) => {
      try {
        s.sandbox.pay({ ...p.payment, openid: p.openid, notify: random() < 0.7 });
      } catch {
        // closed or paid already: WeChat refused the sheet
      }
    };
    // Some pay with the parameters they had while their order is CLOSING: certainly PAID.
    const early = placed.slice(0, 4);
    for (const p of early) pay(p);
    // Others pay while the close job runs, WeChat answering SUCCESS to closes that close
    // nothing; some never pay.
    const racing = placed.slice(4).filter(() => random() < 0.5);
    for (let round = 0; round < 6; round++) {
      const payingNow = racing.filter(() => random() < 0.3);
      await Promise.all([
        closeJobLater(s, CLOSE_MIN_AGE_MS),
        ...payingNow.map(async (p) => {
          await new Promise((r) => setTimeout(r, Math.floor(random() * 20)));
          pay(p);
        }),
      ]);
    }
    // Everything settles: notifications delivered, the close job run until nothing is CLOSING.
    await until(() => s.sandbox.notifications().every((n) => n.status !== 'pending'));
    for (let i = 0; i < 10; i++) await closeJobLater(s, 60 * 60_000);
    for (const p of placed) {
      const trade = s.sandbox.trade(p.order.outTradeNo)!.tradeState;
      const status = await statusOf(s, p.order.id);
      assert.equal(
        status,
        trade === 'SUCCESS' ? 'PAID' : 'CLOSED',
        `${p.order.outTradeNo}: WeChat says ${trade}`,
      );
    }
    for (const p of early) assert.equal(await statusOf(s, p.order.id), 'PAID');
    const unpaid = placed.filter((p) => !early.includes(p) && !racing.includes(p));
    for (const p of unpaid) assert.equal(await statusOf(s, p.order.id), 'CLOSED');
    const anomalies = await s.server.store.db.selectFrom('anomalies').selectAll().execute();
    assert.deepEqual(anomalies, [], 'no money arrived for a closed order');
  });
});

/**
 * The whole flow over loopback, as `minipay start` runs it in demo mode: the real server, the
 * real sandbox playing WeChat (jscode2session, unifiedorder, the user's payment, the notify,
 * orderquery, closeorder), on SQLite and on PostgreSQL.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FIRST_QUERY_MS } from '../../src/payments/checkout.js';
import type { PaymentParams } from '../../src/payments/index.js';
import { buildPaymentNotify } from '../../src/wechatpay/index.js';
import { type Demo, eventually, startDemo } from '../support/demo.js';
import { TestClock } from '../support/payments.js';
import { describeOnStores } from '../support/stores.js';

let keys = 0;
async function checkout(demo: Demo, token: string, productId = 'prd_jasmine_tea', quantity = 2) {
  const res = await demo.api('POST', '/api/v1/orders', {
    token,
    body: { items: [{ productId, quantity }] },
    headers: { 'idempotency-key': `demo-flow-${process.pid}-${++keys}` },
  });
  assert.equal(res.status, 201, res.text);
  return { order: res.json.order!, payment: res.json.payment as PaymentParams };
}

async function status(demo: Demo, token: string, id: string, sync = false) {
  const res = await demo.api('GET', `/api/v1/orders/${id}${sync ? '?sync=1' : ''}`, { token });
  assert.equal(res.status, 200, res.text);
  return res.json.order!.status;
}

describeOnStores('demo mode end to end', (stores) => {
  test('login, catalogue, order, pay in the sandbox, notify marks it PAID once', async (t) => {
    const demo = await startDemo(t, await stores.freshUrl());
    const { token, openid } = await demo.login();
    const products = await demo.api('GET', '/api/v1/products', { token });
    assert.ok(products.json.products!.some((p) => p.id === 'prd_jasmine_tea'));

    const { order, payment } = await checkout(demo, token);
    assert.equal(order.status, 'PENDING');
    assert.equal(order.totalFen, 7600);
    assert.match(payment.package, /^prepay_id=/);
    const trade = demo.sandbox.trade(order.outTradeNo);
    assert.equal(trade?.totalFen, 7600, 'the price WeChat was asked for is the catalogue price');

    demo.sandbox.pay({ openid, ...payment });
    await eventually(async () => (await status(demo, token, order.id)) === 'PAID');
    const paid = await demo.launched.server.store.db
      .selectFrom('order_events')
      .select('type')
      .where('order_id', '=', order.id)
      .where('type', '=', 'order.paid')
      .execute();
    assert.equal(paid.length, 1);
    const log = demo.sandbox.notifications().filter((n) => n.outTradeNo === order.outTradeNo);
    assert.ok(log.length >= 1 && log[0]!.status === 'delivered', 'the server answered SUCCESS');
  });

  test('a payment whose notify never comes is found by ?sync=1', async (t) => {
    const demo = await startDemo(t, await stores.freshUrl(), { jobs: false });
    const { token, openid } = await demo.login();
    const { order, payment } = await checkout(demo, token, 'prd_sample', 1);
    demo.sandbox.pay({ openid, ...payment, notify: false });
    assert.equal(await status(demo, token, order.id), 'PENDING');
    assert.equal(await status(demo, token, order.id, true), 'PAID');
  });

  test('cancel closes the trade at WeChat; paying it afterwards is refused', async (t) => {
    const demo = await startDemo(t, await stores.freshUrl());
    const { token, openid } = await demo.login();
    const { order, payment } = await checkout(demo, token);
    const res = await demo.api('POST', `/api/v1/orders/${order.id}/cancel`, { token });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.order?.status, 'CLOSED');
    assert.equal(demo.sandbox.trade(order.outTradeNo)?.tradeState, 'CLOSED');
    assert.throws(() => demo.sandbox.pay({ openid, ...payment }));
  });

  test("another user's order is not found, and cannot be cancelled or re-paid", async (t) => {
    const demo = await startDemo(t, await stores.freshUrl());
    const alice = await demo.login();
    const bob = await demo.login();
    const { order } = await checkout(demo, alice.token);
    for (const [method, path] of [
      ['GET', `/api/v1/orders/${order.id}`],
      ['POST', `/api/v1/orders/${order.id}/cancel`],
      ['POST', `/api/v1/orders/${order.id}/payment`],
    ] as const) {
      const res = await demo.api(method, path, { token: bob.token });
      assert.equal(res.status, 404, `${method} ${path}`);
    }
    assert.equal(await status(demo, alice.token, order.id), 'PENDING');
  });

  test('a login code works once, as WeChat codes do', async (t) => {
    const demo = await startDemo(t, await stores.freshUrl());
    const code = demo.sandbox.loginCode();
    const first = await demo.api('POST', '/api/v1/login', { body: { code: code.code } });
    assert.equal(first.status, 200);
    const again = await demo.api('POST', '/api/v1/login', { body: { code: code.code } });
    assert.equal(again.status, 401, again.text);
  });
});

describeOnStores('demo mode end to end: what goes wrong', (stores) => {
  const paidEvents = (demo: Demo, orderId: string) =>
    demo.launched.server.store.db
      .selectFrom('order_events')
      .select('id')
      .where('order_id', '=', orderId)
      .where('type', '=', 'order.paid')
      .execute();

  test('every notify dropped: the sweep job asks WeChat and marks the order PAID', async (t) => {
    const clock = new TestClock();
    const demo = await startDemo(t, await stores.freshUrl(), { clock: clock.now });
    await demo.sandbox.setFaults({ dropNotifyRate: 1 });
    const { token, openid } = await demo.login();
    const { order, payment } = await checkout(demo, token);
    demo.sandbox.pay({ openid, ...payment });
    clock.advance(FIRST_QUERY_MS + 1000);
    await eventually(async () => (await status(demo, token, order.id)) === 'PAID', 15_000);
    assert.equal((await paidEvents(demo, order.id)).length, 1);
  });

  test('duplicated notifies (two copies within a second) make one transition', async (t) => {
    const demo = await startDemo(t, await stores.freshUrl());
    await demo.sandbox.setFaults({ duplicateNotifyRate: 1 });
    const { token, openid } = await demo.login();
    const { order, payment } = await checkout(demo, token);
    demo.sandbox.pay({ openid, ...payment });
    await eventually(async () => {
      const entry = demo.sandbox.notifications().find((n) => n.outTradeNo === order.outTradeNo);
      return (entry?.attempts.filter((a) => a.outcome === 'success').length ?? 0) >= 2;
    });
    assert.equal(await status(demo, token, order.id), 'PAID');
    assert.equal((await paidEvents(demo, order.id)).length, 1);
  });

  test('cancel racing a payment whose notify has not come ends PAID, never lost', async (t) => {
    const demo = await startDemo(t, await stores.freshUrl(), { jobs: false });
    const { token, openid } = await demo.login();
    const { order, payment } = await checkout(demo, token);
    demo.sandbox.pay({ openid, ...payment, notify: false });
    const res = await demo.api('POST', `/api/v1/orders/${order.id}/cancel`, { token });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.order?.status, 'PAID');
    assert.equal((await paidEvents(demo, order.id)).length, 1);
  });

  test('expiry: the job closes an unpaid order at WeChat and locally', async (t) => {
    const clock = new TestClock();
    const demo = await startDemo(t, await stores.freshUrl(), { clock: clock.now });
    const { token } = await demo.login();
    const { order } = await checkout(demo, token);
    clock.advance(31 * 60 * 1000);
    await eventually(async () => (await status(demo, token, order.id)) === 'CLOSED', 15_000);
    assert.equal(demo.sandbox.trade(order.outTradeNo)?.tradeState, 'CLOSED');
  });

  test('forged, wrong-amount and other-merchant notifies over HTTP: FAIL, nothing paid', async (t) => {
    const demo = await startDemo(t, await stores.freshUrl(), { jobs: false });
    const { token, openid } = await demo.login();
    const { order } = await checkout(demo, token);
    const c = demo.sandbox.credentials;
    const fields = (over: Record<string, string> = {}) => ({
      appid: c.appId,
      mch_id: c.mchId,
      nonce_str: 'n0nce',
      result_code: 'SUCCESS',
      return_code: 'SUCCESS',
      openid,
      trade_type: 'JSAPI',
      bank_type: 'OTHERS',
      total_fee: String(order.totalFen),
      fee_type: 'CNY',
      transaction_id: '4200000000202611300000000001',
      out_trade_no: order.outTradeNo,
      time_end: '20261130120000',
      ...over,
    });
    const bodies = {
      forged: buildPaymentNotify(fields(), 'x'.repeat(32), 'MD5'),
      cheap: buildPaymentNotify(fields({ total_fee: '1' }), c.mchKey, 'MD5'),
      dollars: buildPaymentNotify(fields({ fee_type: 'USD' }), c.mchKey, 'MD5'),
      otherMerchant: buildPaymentNotify(fields({ mch_id: '1900000999' }), c.mchKey, 'MD5'),
    };
    for (const [name, body] of Object.entries(bodies)) {
      const res = await demo.api('POST', '/wechatpay/v2/notify', {
        raw: body,
        headers: { 'content-type': 'text/xml' },
      });
      assert.match(res.text, /<return_code><!\[CDATA\[FAIL\]\]>|<return_code>FAIL/, name);
    }
    assert.equal(await status(demo, token, order.id), 'PENDING');
    assert.equal((await paidEvents(demo, order.id)).length, 0);
    const anomalies = await demo.launched.server.store.db
      .selectFrom('anomalies')
      .select('kind')
      .execute();
    assert.ok(anomalies.length >= 3, JSON.stringify(anomalies));
  });
});

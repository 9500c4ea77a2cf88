/**
 * The whole flow over loopback, as `minipay start` runs it in demo mode: the real server, the
 * real sandbox playing WeChat (jscode2session, unifiedorder, the user's payment, the notify,
 * orderquery, closeorder), on SQLite and on PostgreSQL.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkout, eventually, startDemo, status } from '../support/demo.js';
import { describeOnStores } from '../support/stores.js';

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

  test('cancel: CLOSING at once (no new payment), CLOSED once the close job has closed the trade at WeChat', async (t) => {
    const demo = await startDemo(t, await stores.freshUrl());
    const { token, openid } = await demo.login();
    const { order, payment } = await checkout(demo, token);
    // WeChat refuses closeorder for 5 minutes (0.3 s here, which a slow machine may pass); the
    // first close it accepts closes nothing, so the cancel answers CLOSING whatever the timing.
    await demo.sandbox.setFaults({ closeLeavesNotpay: 1 });
    const res = await demo.api('POST', `/api/v1/orders/${order.id}/cancel`, { token });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.order?.status, 'CLOSING', 'not closed at WeChat yet');
    const again = await demo.api('POST', `/api/v1/orders/${order.id}/payment`, { token });
    assert.equal(again.status, 409);
    assert.equal(again.json.error?.code, 'ORDER_CLOSING');
    await eventually(async () => (await status(demo, token, order.id)) === 'CLOSED');
    assert.equal(demo.sandbox.trade(order.outTradeNo)?.tradeState, 'CLOSED');
    assert.throws(() => demo.sandbox.pay({ openid, ...payment }), { code: 'ORDER_CLOSED' });
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

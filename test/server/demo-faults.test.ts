/**
 * What goes wrong between the server and WeChat, over loopback with the real sandbox in demo
 * mode: lost and duplicated notifies, a cancel racing a payment, expiry, forged notifies.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FIRST_QUERY_MS } from '../../src/payments/checkout/checkout.js';
import { buildPaymentNotify } from '../../src/wechatpay/index.js';
import { checkout, type Demo, eventually, startDemo, status } from '../support/demo.js';
import { TestClock } from '../support/payments.js';
import { describeOnStores } from '../support/stores.js';

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
    await eventually(async () => (await status(demo, token, order.id)) === 'PAID');
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
    await eventually(async () => (await status(demo, token, order.id)) === 'CLOSED');
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

  test('the main WeChat Pay domain down: every call fails over to the backup domain, and is counted', async (t) => {
    const metricsToken = 'demo-metrics-token-0123456789';
    const demo = await startDemo(t, await stores.freshUrl(), {
      env: { MINIPAY_METRICS_TOKEN: metricsToken },
    });
    assert.ok(demo.sandbox.backupUrl, 'demo mode serves a backup domain');
    await demo.sandbox.setFaults({ primaryDomainFailure: 'http503' });
    const { token, openid } = await demo.login();
    const { order, payment } = await checkout(demo, token);
    demo.sandbox.pay({ openid, ...payment, notify: false });
    assert.equal(await status(demo, token, order.id, true), 'PAID', 'orderquery via the backup');
    const metrics = await demo.api('GET', '/metrics', { token: metricsToken });
    assert.match(
      metrics.text,
      /minipay_wechatpay_failovers_total\{path="\/pay\/unifiedorder",reason="HTTP_503"\} 1/,
    );
    assert.doesNotMatch(
      metrics.text,
      /minipay_wechatpay_failovers_total\{path="\/pay\/orderquery"/,
      'after a failover the backup is asked first for a while: no second one',
    );
  });

  test('api.weixin.qq.com down: login fails over to api2.weixin.qq.com, and is counted', async (t) => {
    const metricsToken = 'demo-metrics-token-0123456789';
    const demo = await startDemo(t, await stores.freshUrl(), {
      env: { MINIPAY_METRICS_TOKEN: metricsToken },
    });
    await demo.sandbox.setFaults({ primaryApiDomainFailure: 'http503' });
    const { token } = await demo.login();
    const me = await demo.api('GET', '/api/v1/me', { token });
    assert.equal(me.status, 200, me.text);
    const metrics = await demo.api('GET', '/metrics', { token: metricsToken });
    assert.match(
      metrics.text,
      /minipay_wechatpay_failovers_total\{path="\/sns\/jscode2session",reason="HTTP_503"\} 1/,
    );
  });
});

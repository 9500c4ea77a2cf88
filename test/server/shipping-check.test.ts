/**
 * The shipping check (`GET /admin/v1/shipping/check`) over loopback against the sandbox, on
 * SQLite and PostgreSQL: WeChat's unshipped orders of the last days against minipay. An order
 * awaiting the merchant is no finding; one minipay thinks shipped while WeChat has nothing, and
 * a payment minipay never made (another system on the same mini program), are reported. Bad
 * queries are refused.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ShippingCheck } from '../../src/contract/index.js';
import { paidTrade } from '../sandbox/support.js';
import { checkout, type Demo, eventually, startDemo } from '../support/demo.js';
import { describeOnStores } from '../support/stores.js';

const FAST = { retryBaseMs: 20, retryCapMs: 100, maxAttempts: 4 };

async function paid(demo: Demo, productId: string) {
  const { token, openid } = await demo.login();
  const { order, payment } = await checkout(demo, token, productId, 1);
  demo.sandbox.pay({ openid, ...payment });
  const shipping = demo.launched.server.payments.shipping!;
  await eventually(async () => (await shipping.shipment(order.id)) !== null);
  return order;
}

describeOnStores('shipping check against WeChat', (stores) => {
  test('reports unknown orders and those minipay thinks shipped', async (t) => {
    const demo = await startDemo(t, await stores.freshUrl(), { shipping: FAST });
    const { store, payments } = demo.launched.server;
    const shipping = payments.shipping!;
    const awaiting = await paid(demo, 'prd_tea_cup');
    const virtual = await paid(demo, 'prd_member_month');
    await eventually(async () => (await shipping.shipment(virtual.id))?.status === 'UPLOADED');
    // minipay believes this one shipped, but the upload never reached WeChat.
    const lost = await paid(demo, 'prd_tea_cup');
    await store.db
      .updateTable('shipments')
      .set({ status: 'UPLOADED', uploaded_at: new Date().toISOString() })
      .where('order_id', '=', lost.id)
      .execute();
    // A payment of another system on the same mini program and merchant.
    const foreign = await paidTrade(demo.sandbox, 'http://127.0.0.1:9/wechatpay/v2/notify');

    const res = await demo.api('GET', '/admin/v1/shipping/check?days=3', {
      token: demo.launched.adminToken!,
    });
    assert.equal(res.status, 200, res.text);
    const check = res.json as unknown as ShippingCheck;
    assert.equal(check.examined, 3, 'WeChat’s unshipped: awaiting, lost, foreign');
    assert.equal(check.complete, true);
    const found = check.findings
      .map((f) => [f.problem, f.merchantTradeNo, f.orderId] as const)
      .sort((a, b) => a[0].localeCompare(b[0]));
    assert.deepEqual(found, [
      ['shipped_in_minipay', lost.outTradeNo, lost.id],
      ['unknown_order', foreign.outTradeNo, null],
    ]);
    assert.ok(!check.findings.some((f) => f.orderId === awaiting.id));
    assert.equal(Date.parse(check.to) - Date.parse(check.from), 3 * 24 * 3600_000);
  });

  test('bad queries are refused', async (t) => {
    const demo = await startDemo(t, await stores.freshUrl(), { shipping: FAST });
    const token = demo.launched.adminToken!;
    for (const query of ['days=0', 'days=31', 'days=abc', 'days=7&x=1', 'days=1.5']) {
      const res = await demo.api('GET', `/admin/v1/shipping/check?${query}`, { token });
      assert.equal(res.status, 400, `${query} → ${res.text}`);
      assert.equal(res.json.error?.code, 'VALIDATION_FAILED');
    }
    const anonymous = await demo.api('GET', '/admin/v1/shipping/check');
    assert.equal(anonymous.status, 401);
    await demo.sandbox.setFaults({
      platformErrcodes: { '/wxa/sec/order/get_order_list': { '48001': 1 } },
    });
    const refused = await demo.api('GET', '/admin/v1/shipping/check', { token });
    assert.equal(refused.status, 502);
    assert.equal(refused.json.error?.code, 'WECHAT_48001');
  });
});

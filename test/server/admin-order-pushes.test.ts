/**
 * `GET /admin/v1/orders/:id/wechat-pushes` over loopback on SQLite and PostgreSQL: the pushes
 * WeChat (the sandbox) sent about an order, the shipped-stage one (recorded, nothing to do)
 * and the settlement once the buyer confirms receipt (applied), oldest first; hostile
 * requests refused with `{error}`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { WechatPushEntry } from '../../src/contract/index.js';
import { checkout, eventually, startDemo } from '../support/demo.js';
import { describeOnStores } from '../support/stores.js';

describeOnStores('admin: the pushes of an order', (stores) => {
  test('shipped then settled, linked to the order; hostile requests refused', async (t) => {
    const demo = await startDemo(t, await stores.freshUrl());
    const admin = { token: demo.launched.adminToken! };
    const { token, openid } = await demo.login();
    const { order, payment } = await checkout(demo, token, 'prd_tea_cup', 1);
    demo.sandbox.pay({ openid, ...payment });
    const shipping = demo.launched.server.payments.shipping!;
    await eventually(async () => (await shipping.shipment(order.id)) !== null);
    const path = `/admin/v1/orders/${order.id}/wechat-pushes`;
    const before = await demo.api('GET', path, admin);
    assert.equal(before.status, 200, before.text);
    assert.deepEqual((before.json as unknown as { pushes: [] }).pushes, []);

    const shipped = await demo.api('POST', `/admin/v1/orders/${order.id}/ship`, {
      ...admin,
      body: { logisticsType: 'pick-up', parcels: [{}] },
    });
    assert.equal(shipped.status, 200, shipped.text);
    await fetch(`${demo.sandbox.url}/sandbox/v1/confirm-receipt`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ outTradeNo: order.outTradeNo }),
    });
    let pushes: WechatPushEntry[] = [];
    await eventually(async () => {
      const res = await demo.api('GET', path, admin);
      pushes = (res.json as unknown as { pushes: WechatPushEntry[] }).pushes;
      return pushes.length === 2;
    });
    assert.deepEqual(
      pushes.map((p) => [p.event, p.outcome]),
      [
        ['trade_manage_order_settlement', 'recorded'],
        ['trade_manage_order_settlement', 'applied'],
      ],
    );
    assert.ok(pushes.every((p) => p.message.includes(order.outTradeNo)));

    const hostile: [string, number][] = [
      ['/admin/v1/orders/ord_nope/wechat-pushes', 404],
      [`/admin/v1/orders/${'x'.repeat(65)}/wechat-pushes`, 400],
    ];
    for (const [url, code] of hostile) {
      const res = await demo.api('GET', url, admin);
      assert.equal(res.status, code, `${url}: ${res.text}`);
      assert.equal(typeof res.json.error?.code, 'string');
    }
    assert.equal((await demo.api('GET', path)).status, 401);
    assert.equal((await demo.api('GET', path, { token: 'wrong-token-x' })).status, 403);
  });
});

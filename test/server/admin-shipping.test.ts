/**
 * The admin shipping API over loopback, against the sandbox: the queue of orders awaiting
 * shipment, the ship action with its checks, the retry, couriers, WeChat's view and trade
 * management; malformed and hostile bodies are refused and change nothing.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Shipment, ShippingQueue } from '../../src/contract/index.js';
import { checkout, type Demo, eventually, startDemo } from '../support/demo.js';
import { describeOnStores } from '../support/stores.js';

const FAST = { retryBaseMs: 20, retryCapMs: 100, maxAttempts: 4 };

async function paid(demo: Demo, productId = 'prd_tea_cup') {
  const { token, openid } = await demo.login();
  const { order, payment } = await checkout(demo, token, productId, 1);
  demo.sandbox.pay({ openid, ...payment });
  await eventually(
    async () => (await demo.launched.server.payments.shipping!.shipment(order.id)) !== null,
  );
  return order;
}

function admin(demo: Demo) {
  const token = demo.launched.adminToken!;
  return (method: string, path: string, body?: unknown) =>
    demo.api(method, `/admin/v1${path}`, { token, ...(body === undefined ? {} : { body }) });
}

describeOnStores('admin shipping API', (stores) => {
  test('the queue, the ship action, WeChat’s view; refusals change nothing', async (t) => {
    const demo = await startDemo(t, await stores.freshUrl(), { shipping: FAST });
    const call = admin(demo);
    const order = await paid(demo);
    const queue = await call('GET', '/shipping');
    assert.equal(queue.status, 200, queue.text);
    const entries = (queue.json as unknown as ShippingQueue).entries;
    assert.deepEqual(
      entries.map((e) => [e.order.id, e.shipment.status]),
      [[order.id, 'AWAITING_SHIPMENT']],
    );

    const couriers = await call('GET', '/shipping/couriers');
    assert.ok(
      (couriers.json as unknown as { couriers: { id: string }[] }).couriers.some(
        (c) => c.id === 'SF',
      ),
    );
    const managed = await call('GET', '/shipping/trade-management');
    assert.equal((managed.json as unknown as { managed: boolean }).managed, true);

    const refusals: [unknown, number, string][] = [
      [{ logisticsType: 'express', parcels: [] }, 400, 'VALIDATION_FAILED'],
      [{ logisticsType: 'virtual', parcels: [{}] }, 400, 'VALIDATION_FAILED'],
      [{ logisticsType: 'express', parcels: [{ trackingNo: 'X1' }] }, 400, 'VALIDATION_FAILED'],
      [
        { logisticsType: 'express', parcels: [{ trackingNo: 'X1', expressCompany: 'SF' }] },
        400,
        'VALIDATION_FAILED',
      ],
      [{ logisticsType: 'pick-up', parcels: [{}, {}] }, 400, 'VALIDATION_FAILED'],
      [
        {
          logisticsType: 'express',
          parcels: Array(16).fill({ trackingNo: 'a', expressCompany: 'YTO' }),
        },
        400,
        'VALIDATION_FAILED',
      ],
      [
        {
          logisticsType: 'express',
          parcels: [{ trackingNo: 'x'.repeat(129), expressCompany: 'YTO' }],
        },
        400,
        'VALIDATION_FAILED',
      ],
      [
        {
          logisticsType: 'express',
          parcels: [{ trackingNo: 'a', expressCompany: 'YTO', evil: 1 }],
        },
        400,
        'VALIDATION_FAILED',
      ],
      [
        {
          logisticsType: 'express',
          parcels: [{ trackingNo: 'a', expressCompany: 'SF', receiverPhone: '<script>' }],
        },
        400,
        'VALIDATION_FAILED',
      ],
      ['not an object', 400, 'VALIDATION_FAILED'],
    ];
    for (const [body, status, code] of refusals) {
      const res = await call('POST', `/orders/${order.id}/ship`, body);
      assert.equal(res.status, status, `${JSON.stringify(body).slice(0, 80)}: ${res.text}`);
      assert.equal(res.json.error?.code, code);
    }
    const big = await demo.api('POST', `/admin/v1/orders/${order.id}/ship`, {
      token: demo.launched.adminToken!,
      raw: JSON.stringify({
        logisticsType: 'express',
        parcels: [{ itemDesc: 'x'.repeat(2_000_000) }],
      }),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(big.status, 413);
    const still = await call('GET', `/orders/${order.id}/shipment`);
    assert.equal(
      (still.json as unknown as { shipment: Shipment }).shipment.status,
      'AWAITING_SHIPMENT',
      'unchanged',
    );

    const unknown = await call('POST', '/orders/ord_nope/ship', {
      logisticsType: 'pick-up',
      parcels: [{}],
    });
    assert.equal(unknown.status, 404);
    const unauthorised = await demo.api('POST', `/admin/v1/orders/${order.id}/ship`, { body: {} });
    assert.equal(unauthorised.status, 401);

    const shipped = await call('POST', `/orders/${order.id}/ship`, {
      logisticsType: 'express',
      parcels: [
        { trackingNo: 'SF1', expressCompany: 'SF', receiverPhone: '13812345678' },
        { trackingNo: 'YT2', expressCompany: 'YTO', itemDesc: '茶杯*1' },
      ],
    });
    assert.equal(shipped.status, 200, shipped.text);
    assert.equal((shipped.json as unknown as { shipment: Shipment }).shipment.status, 'UPLOADED');
    const wechat = await call('GET', `/orders/${order.id}/shipment/wechat`);
    assert.equal(wechat.status, 200, wechat.text);
    assert.equal((wechat.json as unknown as { stateName: string }).stateName, 'shipped');
    const after = await call('GET', '/shipping');
    assert.deepEqual((after.json as unknown as ShippingQueue).entries, [], 'nothing awaits');
    const again = await call('POST', `/orders/${order.id}/ship`, {
      logisticsType: 'pick-up',
      parcels: [{}],
    });
    assert.equal(again.status, 409);
    assert.equal(again.json.error?.code, 'ALREADY_SHIPPED');
    const retry = await call('POST', `/orders/${order.id}/shipment/retry`);
    assert.equal(retry.status, 409);
    const remind = await call('POST', `/orders/${order.id}/shipment/remind-receipt`);
    assert.equal(remind.status, 200, remind.text);
    const remindedAt = (remind.json as { shipment: { receiptRemindedAt: string | null } }).shipment
      .receiptRemindedAt;
    assert.ok(remindedAt, 'the reminder is remembered');
    // Were WeChat asked again, it would answer "system busy" (a 502 here), not the 409.
    await demo.sandbox.setFaults({
      platformErrcodes: { '/wxa/sec/order/notify_confirm_receive': { '-1': 1 } },
    });
    const twice = await call('POST', `/orders/${order.id}/shipment/remind-receipt`);
    assert.equal(twice.status, 409, twice.text);
    assert.equal(twice.json.error?.code, 'ALREADY_REMINDED', 'WeChat reminds once per order');
    assert.ok(twice.json.error?.message.includes(remindedAt!), twice.text);
  });

  test('a reminder WeChat says was spent (10060030) is remembered and refused after', async (t) => {
    const demo = await startDemo(t, await stores.freshUrl(), { shipping: FAST });
    const call = admin(demo);
    const order = await paid(demo);
    const shipped = await call('POST', `/orders/${order.id}/ship`, {
      logisticsType: 'express',
      parcels: [{ trackingNo: 'YT9', expressCompany: 'YTO' }],
    });
    assert.equal(shipped.status, 200, shipped.text);
    // Sent from WeChat's own admin meanwhile: WeChat refuses minipay's.
    await demo.sandbox.setFaults({
      platformErrcodes: { '/wxa/sec/order/notify_confirm_receive': { '10060030': 1 } },
    });
    const spent = await call('POST', `/orders/${order.id}/shipment/remind-receipt`);
    assert.equal(spent.status, 409, spent.text);
    assert.equal(spent.json.error?.code, 'ALREADY_REMINDED');
    const after = await call('GET', `/orders/${order.id}/shipment`);
    assert.ok((after.json as unknown as { shipment: Shipment }).shipment.receiptRemindedAt);
    const again = await call('POST', `/orders/${order.id}/shipment/remind-receipt`);
    assert.equal(again.json.error?.code, 'ALREADY_REMINDED');
  });

  test('a failed upload shows WeChat’s errcode and advice; retry uploads it', async (t) => {
    const demo = await startDemo(t, await stores.freshUrl(), { shipping: FAST });
    const call = admin(demo);
    await demo.sandbox.setFaults({
      platformErrcodes: { '/wxa/sec/order/upload_shipping_info': { '48001': 1 } },
    });
    const order = await paid(demo);
    const res = await call('POST', `/orders/${order.id}/ship`, {
      logisticsType: 'pick-up',
      parcels: [{}],
    });
    const failed = (res.json as unknown as { shipment: Shipment }).shipment;
    assert.equal(failed.status, 'FAILED');
    assert.equal(failed.lastError?.code, '48001');
    assert.match(failed.lastError?.message ?? '', /no permission/);
    const queue = await call('GET', '/shipping?status=FAILED');
    assert.equal((queue.json as unknown as ShippingQueue).entries.length, 1);
    const retried = await call('POST', `/orders/${order.id}/shipment/retry`);
    assert.equal((retried.json as unknown as { shipment: Shipment }).shipment.status, 'UPLOADED');
    const bad = await call('GET', '/shipping?status=NOPE');
    assert.equal(bad.status, 400);
  });
});

/**
 * Correcting uploaded shipping info (`POST /admin/v1/orders/:id/shipment/correct`, WeChat's one
 * correction) over loopback against the sandbox, on SQLite and PostgreSQL: a correction
 * replaces what WeChat has and emits order.shipment_corrected; a second one, or WeChat's
 * "no correction left" (10060003), is a clear 409; any other refusal gives the correction back;
 * an answer lost after WeChat took it is settled by get_order. Malformed, unknown and
 * wrong-state requests are refused and change nothing.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Shipment } from '../../src/contract/index.js';
import { checkout, type Demo, eventually, startDemo } from '../support/demo.js';
import { describeOnStores } from '../support/stores.js';

const FAST = { retryBaseMs: 20, retryCapMs: 100, maxAttempts: 4 };
const UPLOAD = '/wxa/sec/order/upload_shipping_info';
const YTO = { logisticsType: 'express', parcels: [{ trackingNo: 'YT1', expressCompany: 'YTO' }] };
const SF = {
  logisticsType: 'express',
  parcels: [{ trackingNo: 'SF2', expressCompany: 'SF', receiverPhone: '13812345678' }],
};

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

async function shipped(demo: Demo) {
  const order = await paid(demo);
  const res = await admin(demo)('POST', `/orders/${order.id}/ship`, YTO);
  assert.equal(res.status, 200, res.text);
  return order;
}

async function wechat(demo: Demo, outTradeNo: string) {
  const res = await fetch(`${demo.sandbox.url}/sandbox/v1/shipping/${outTradeNo}`);
  const { order } = (await res.json()) as {
    order: {
      shipping?: {
        finish_shipping_count: number;
        shipping_list: { tracking_no?: string; express_company?: string }[];
      };
    };
  };
  return order.shipping!;
}

const shipmentOf = (res: { json: unknown }) => (res.json as { shipment: Shipment }).shipment;

async function events(demo: Demo, orderId: string, type: string): Promise<number> {
  const rows = await demo.launched.server.store.db
    .selectFrom('order_events')
    .select('id')
    .where('order_id', '=', orderId)
    .where('type', '=', type)
    .execute();
  return rows.length;
}

describeOnStores('admin shipment correction', (stores) => {
  test('one correction: WeChat has the new info, order.shipment_corrected; a second is 409', async (t) => {
    const demo = await startDemo(t, await stores.freshUrl(), { shipping: FAST });
    const call = admin(demo);
    const order = await shipped(demo);
    const path = `/orders/${order.id}/shipment/correct`;
    const res = await call('POST', path, SF);
    assert.equal(res.status, 200, res.text);
    const corrected = shipmentOf(res);
    assert.equal(corrected.status, 'UPLOADED');
    assert.ok(corrected.correctedAt);
    assert.deepEqual(corrected.parcels, [
      {
        trackingNo: 'SF2',
        expressCompany: 'SF',
        itemDesc: order.description,
        receiverContact: '138****5678',
      },
    ]);
    const view = await wechat(demo, order.outTradeNo);
    assert.equal(view.finish_shipping_count, 2, 'WeChat counts the correction');
    assert.equal(view.shipping_list[0]?.tracking_no, 'SF2');
    assert.equal(await events(demo, order.id, 'order.shipment_corrected'), 1);
    assert.equal(await events(demo, order.id, 'order.shipped'), 1, 'shipped once');

    const again = await call('POST', path, YTO);
    assert.equal(again.status, 409);
    assert.equal(again.json.error?.code, 'ALREADY_CORRECTED');
    assert.equal((await wechat(demo, order.outTradeNo)).shipping_list[0]?.tracking_no, 'SF2');
  });

  test('WeChat has no correction left (10060003): 409, the info WeChat has stays', async (t) => {
    const demo = await startDemo(t, await stores.freshUrl(), { shipping: FAST });
    const call = admin(demo);
    const order = await shipped(demo);
    await demo.sandbox.setFaults({ platformErrcodes: { [UPLOAD]: { '10060003': 1 } } });
    const res = await call('POST', `/orders/${order.id}/shipment/correct`, SF);
    assert.equal(res.status, 409, res.text);
    assert.equal(res.json.error?.code, 'CORRECTION_USED');
    assert.match(res.json.error?.message ?? '', /10060003/);
    const shipment = shipmentOf(await call('GET', `/orders/${order.id}/shipment`));
    assert.equal(shipment.parcels[0]?.trackingNo, 'YT1', 'the first info stays');
    assert.ok(shipment.correctedAt, 'no correction offered again');
    assert.equal(await events(demo, order.id, 'order.shipment_corrected'), 0);
    const again = await call('POST', `/orders/${order.id}/shipment/correct`, SF);
    assert.equal(again.json.error?.code, 'ALREADY_CORRECTED');
  });

  test('another refusal gives the correction back; a lost answer is read from get_order', async (t) => {
    const demo = await startDemo(t, await stores.freshUrl(), { shipping: FAST });
    const call = admin(demo);
    const order = await shipped(demo);
    const path = `/orders/${order.id}/shipment/correct`;
    await demo.sandbox.setFaults({ platformErrcodes: { [UPLOAD]: { '10060012': 1 } } });
    const busy = await call('POST', path, SF);
    assert.equal(busy.status, 502, busy.text);
    assert.equal(busy.json.error?.code, 'WECHAT_10060012');
    const after = shipmentOf(await call('GET', `/orders/${order.id}/shipment`));
    assert.equal(after.correctedAt, null, 'the correction is given back');
    assert.equal(after.parcels[0]?.trackingNo, 'YT1');
    assert.equal((await wechat(demo, order.outTradeNo)).finish_shipping_count, 1);

    // WeChat takes it but the answer is lost: get_order shows the correction.
    await demo.sandbox.setFaults({ timeoutRate: { [UPLOAD]: 1 }, timeoutHoldMs: 0 });
    const lost = await call('POST', path, SF);
    assert.equal(lost.status, 200, lost.text);
    assert.equal(shipmentOf(lost).parcels[0]?.trackingNo, 'SF2');
    assert.equal((await wechat(demo, order.outTradeNo)).finish_shipping_count, 2);
  });

  test('malformed, unknown and wrong-state requests are refused; nothing changes', async (t) => {
    const demo = await startDemo(t, await stores.freshUrl(), { shipping: FAST });
    const call = admin(demo);
    const order = await shipped(demo);
    const path = `/orders/${order.id}/shipment/correct`;
    const refusals: [string, unknown, number, string][] = [
      [path, { logisticsType: 'express', parcels: [] }, 400, 'VALIDATION_FAILED'],
      [path, { logisticsType: 'virtual', parcels: [{}] }, 400, 'VALIDATION_FAILED'],
      [path, { ...SF, extra: 1 }, 400, 'VALIDATION_FAILED'],
      [
        path,
        { logisticsType: 'express', parcels: [{ trackingNo: 'X' }] },
        400,
        'VALIDATION_FAILED',
      ],
      [path, 'not json at all', 400, 'VALIDATION_FAILED'],
      [path, YTO, 409, 'UNCHANGED'],
      ['/orders/ord_of_another_shop/shipment/correct', SF, 404, 'NOT_FOUND'],
      [`/orders/${'x'.repeat(300)}/shipment/correct`, SF, 414, 'URI_TOO_LONG'],
    ];
    for (const [p, body, status, code] of refusals) {
      const res = await call('POST', p, body);
      assert.equal(res.status, status, `${JSON.stringify(body)} → ${res.text}`);
      assert.equal(res.json.error?.code, code, res.text);
    }
    // Not yet shipped, or a virtual order (minipay reports those itself): nothing to correct.
    const waiting = await paid(demo);
    const notShipped = await call('POST', `/orders/${waiting.id}/shipment/correct`, SF);
    assert.equal(notShipped.status, 409);
    assert.equal(notShipped.json.error?.code, 'NOT_CORRECTABLE');
    const virtual = await paid(demo, 'prd_member_month');
    const shipping = demo.launched.server.payments.shipping!;
    await eventually(async () => (await shipping.shipment(virtual.id))?.status === 'UPLOADED');
    const notPhysical = await call('POST', `/orders/${virtual.id}/shipment/correct`, SF);
    assert.equal(notPhysical.json.error?.code, 'NOT_CORRECTABLE');
    // Unauthenticated.
    const anonymous = await demo.api('POST', `/admin/v1${path}`, { body: SF });
    assert.equal(anonymous.status, 401);

    const shipment = shipmentOf(await call('GET', `/orders/${order.id}/shipment`));
    assert.equal(shipment.correctedAt, null);
    assert.equal(shipment.parcels[0]?.trackingNo, 'YT1');
    assert.equal((await wechat(demo, order.outTradeNo)).finish_shipping_count, 1);
    assert.equal(await events(demo, order.id, 'order.shipment_corrected'), 0);
  });
});

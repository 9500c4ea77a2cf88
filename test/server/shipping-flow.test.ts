/**
 * Shipping over loopback (issue 17): the real server and the real sandbox playing WeChat's mini
 * program platform, on SQLite and PostgreSQL. A virtual order is reported shipped when paid;
 * a physical one when the merchant ships it; WeChat's refusals and lost answers are retried
 * or shown; an access_token revoked mid-flow is replaced.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Shipment } from '../../src/contract/index.js';
import { checkout, type Demo, eventually, startDemo } from '../support/demo.js';
import { describeOnStores } from '../support/stores.js';

const UPLOAD = '/wxa/sec/order/upload_shipping_info';
const FAST = { retryBaseMs: 20, retryCapMs: 100, maxAttempts: 4 };

async function paidOrder(demo: Demo, productId: string) {
  const { token, openid } = await demo.login();
  const { order, payment } = await checkout(demo, token, productId, 1);
  demo.sandbox.pay({ openid, ...payment });
  const shipping = demo.launched.server.payments.shipping!;
  let shipment: Shipment | null = null;
  await eventually(async () => {
    shipment = await shipping.shipment(order.id);
    return shipment !== null;
  });
  return { order, token, shipment: shipment! as Shipment };
}

async function wechatView(demo: Demo, outTradeNo: string) {
  const res = await fetch(`${demo.sandbox.url}/sandbox/v1/shipping/${outTradeNo}`);
  return (
    (await res.json()) as { order: { order_state: number; shipping?: Record<string, unknown> } }
  ).order;
}

async function eventTypes(demo: Demo, orderId: string): Promise<string[]> {
  const rows = await demo.launched.server.store.db
    .selectFrom('order_events')
    .select('type')
    .where('order_id', '=', orderId)
    .orderBy('seq')
    .execute();
  return rows.map((r) => r.type);
}

describeOnStores('shipping end to end', (stores) => {
  test('a virtual order is reported shipped when paid: WeChat has it, order.shipped is out', async (t) => {
    const demo = await startDemo(t, await stores.freshUrl(), { shipping: FAST });
    const { order } = await paidOrder(demo, 'prd_member_month');
    const shipping = demo.launched.server.payments.shipping!;
    await eventually(async () => (await shipping.shipment(order.id))?.status === 'UPLOADED');
    const shipment = (await shipping.shipment(order.id))!;
    assert.equal(shipment.kind, 'virtual');
    assert.equal(shipment.logisticsType, 'virtual');
    assert.deepEqual(shipment.parcels, [{ itemDesc: '会员月卡 Monthly membership*1' }]);
    const view = await wechatView(demo, order.outTradeNo);
    assert.equal(view.order_state, 2, 'WeChat: shipped');
    assert.equal(view.shipping?.logistics_type, 3);
    assert.ok((await eventTypes(demo, order.id)).includes('order.shipped'));
  });

  test('a physical order waits for the merchant; shipped in two parcels, WeChat has both', async (t) => {
    const demo = await startDemo(t, await stores.freshUrl(), { shipping: FAST });
    const { order, shipment } = await paidOrder(demo, 'prd_tea_cup');
    assert.equal(shipment.kind, 'physical');
    assert.equal(shipment.status, 'AWAITING_SHIPMENT');
    const shipping = demo.launched.server.payments.shipping!;
    const shipped = await shipping.ship(order.id, {
      logisticsType: 'express',
      parcels: [
        { trackingNo: 'YT100', expressCompany: 'YTO' },
        { trackingNo: 'SF200', expressCompany: 'SF', receiverPhone: '13812345678' },
      ],
    });
    assert.equal(shipped.status, 'UPLOADED', JSON.stringify(shipped.lastError));
    assert.equal(shipped.parcels[1]?.receiverContact, '138****5678', 'the phone goes masked');
    const view = await wechatView(demo, order.outTradeNo);
    assert.equal(view.order_state, 2);
    assert.equal(view.shipping?.delivery_mode, 2, 'split delivery');
    await assert.rejects(shipping.ship(order.id, { logisticsType: 'pick-up', parcels: [{}] }), {
      code: 'ALREADY_SHIPPED',
    });
  });

  test('busy WeChat is retried; a refusal is FAILED with its advice, and an admin retries it', async (t) => {
    const demo = await startDemo(t, await stores.freshUrl(), { shipping: FAST });
    await demo.sandbox.setFaults({ platformErrcodes: { [UPLOAD]: { '10060012': 1 } } });
    const { order } = await paidOrder(demo, 'prd_member_month');
    const shipping = demo.launched.server.payments.shipping!;
    await eventually(async () => (await shipping.shipment(order.id))?.status === 'UPLOADED');
    assert.equal((await shipping.shipment(order.id))?.attempts, 2, 'system busy, then success');

    await demo.sandbox.setFaults({ platformErrcodes: { [UPLOAD]: { '10060031': 1 } } });
    const second = await paidOrder(demo, 'prd_member_month');
    await eventually(async () => (await shipping.shipment(second.order.id))?.status === 'FAILED');
    const failed = (await shipping.shipment(second.order.id))!;
    assert.equal(failed.lastError?.code, '10060031');
    assert.match(failed.lastError?.message ?? '', /payer openid/);
    const retried = await shipping.retry(second.order.id);
    assert.equal(retried.status, 'UPLOADED');
    assert.equal(retried.lastError, null);
  });

  test('an answer lost after WeChat took the upload: the retry reads get_order, no correction spent', async (t) => {
    const demo = await startDemo(t, await stores.freshUrl(), { shipping: FAST });
    await demo.sandbox.setFaults({ timeoutRate: { [UPLOAD]: 1 }, timeoutHoldMs: 0 });
    const { order } = await paidOrder(demo, 'prd_member_month');
    const shipping = demo.launched.server.payments.shipping!;
    await eventually(async () => (await shipping.shipment(order.id))?.lastError !== null);
    await demo.sandbox.setFaults({ timeoutRate: { [UPLOAD]: 0 } });
    await eventually(async () => (await shipping.shipment(order.id))?.status === 'UPLOADED');
    const view = await wechatView(demo, order.outTradeNo);
    assert.equal(
      view.shipping?.finish_shipping_count,
      1,
      'WeChat saw one upload, not a correction',
    );
  });

  test('the access_token revoked mid-flow (another system forced a refresh): a new one, once', async (t) => {
    const demo = await startDemo(t, await stores.freshUrl(), { shipping: FAST });
    const shipping = demo.launched.server.payments.shipping!;
    const first = await paidOrder(demo, 'prd_member_month');
    await eventually(async () => (await shipping.shipment(first.order.id))?.status === 'UPLOADED');
    await fetch(`${demo.sandbox.url}/sandbox/v1/access-token/revoke`, { method: 'POST' });
    const second = await paidOrder(demo, 'prd_member_month');
    await eventually(async () => (await shipping.shipment(second.order.id))?.status === 'UPLOADED');
    assert.equal(
      (await shipping.shipment(second.order.id))?.attempts,
      1,
      'withToken retried inside',
    );
    const stats = (await (await fetch(`${demo.sandbox.url}/sandbox/v1/access-token`)).json()) as {
      issued: number;
      forced: number;
    };
    assert.equal(stats.issued, 2);
    const row = await demo.launched.server.store.db
      .selectFrom('miniprogram_tokens')
      .select(['normal_calls', 'forced_calls'])
      .executeTakeFirstOrThrow();
    assert.equal(row.forced_calls + row.normal_calls, 2);
  });
});

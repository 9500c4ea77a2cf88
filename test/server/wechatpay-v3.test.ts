/**
 * APIv3 end to end: the real server with the v3 gateway against the real sandbox over loopback
 * (prepay, RSA paySign, v3 payment and refund notifications, queries, refunds), a shop switching
 * from v2 to v3 with orders pending across the switch, on SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startSandbox } from '../../src/sandbox/index.js';
import { type SandboxServer, startSandboxServer, until } from '../support/sandbox-server.js';
import { describeOnStores } from '../support/stores.js';

let keys = 0;
const key = () => `v3-test-${process.pid}-${++keys}`;

async function orderRow(s: SandboxServer, id: string) {
  return s.server.store.db
    .selectFrom('orders')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
}

async function refundOf(s: SandboxServer, orderId: string, amountFen: number) {
  const r = await s.admin('POST', `/admin/v1/orders/${orderId}/refunds`, {
    body: { amountFen },
    headers: { 'idempotency-key': key() },
  });
  assert.equal(r.status, 201, r.text);
  return (r.json as unknown as { refund: { id: string } }).refund;
}

async function refundStatus(s: SandboxServer, orderId: string): Promise<string | undefined> {
  const r = await s.admin('GET', `/admin/v1/refunds?orderId=${orderId}`);
  return (r.json as unknown as { refunds: { status: string }[] }).refunds[0]?.status;
}

describeOnStores('APIv3 against the sandbox', (stores) => {
  test('checkout with RSA paySign, v3 payment notify, refund with v3 refund notify', async (t) => {
    const s = await startSandboxServer(t, await stores.freshUrl(), { api: 'v3' });
    const pending = await s.pendingOrder(2);
    assert.equal(pending.payment.signType, 'RSA');
    assert.equal(pending.payment.paySign.length, 344);
    assert.equal((await orderRow(s, pending.order.id)).wechatpay_api, 'v3');
    s.sandbox.pay({ ...pending.payment, openid: pending.openid });
    await until(async () => (await orderRow(s, pending.order.id)).status === 'PAID');
    const delivered = s.sandbox
      .notifications()
      .find((n) => n.outTradeNo === pending.order.outTradeNo)!;
    assert.equal(delivered.format, 'v3');
    await until(() => s.sandbox.notifications()[0]!.status === 'delivered');
    assert.equal(delivered.url.endsWith('/wechatpay/v3/notify'), true);
    await refundOf(s, pending.order.id, 500);
    await until(async () => (await refundStatus(s, pending.order.id)) === 'SUCCESS');
    const refundNotify = () => s.sandbox.notifications().find((n) => n.kind === 'refund')!;
    assert.equal(refundNotify().format, 'v3');
    assert.ok(refundNotify().url.endsWith('/wechatpay/v3/refund-notify'));
    await until(() => refundNotify().status === 'delivered');
    assert.equal((await orderRow(s, pending.order.id)).status, 'PARTIALLY_REFUNDED');
  });

  test('a payment WeChat never notified is found by the v3 query (?sync=1)', async (t) => {
    const s = await startSandboxServer(t, await stores.freshUrl(), { api: 'v3' });
    const p = await s.pendingOrder(1);
    s.sandbox.pay({ ...p.payment, openid: p.openid, notify: false });
    const r = await s.api('GET', `/api/v1/orders/${p.order.id}?sync=1`, { token: p.token });
    assert.equal(r.json.order?.status, 'PAID', r.text);
    assert.match((await orderRow(s, p.order.id)).transaction_id ?? '', /^4200/);
  });

  test('switch v2 → v3: orders made under v2 are paid, queried and refunded through v2; new ones use v3', async (t) => {
    const sandbox = await startSandbox({ timeScale: 1000 });
    t.after(() => sandbox.close());
    const databaseUrl = await stores.freshUrl();
    const before = await startSandboxServer(t, databaseUrl, { sandboxInstance: sandbox });
    const port = Number(new URL(before.server.url).port);
    const pendingV2 = await before.pendingOrder(1);
    const paidV2 = await before.paidOrder(2);
    const silentV2 = await before.pendingOrder(1);
    sandbox.pay({ ...silentV2.payment, openid: silentV2.openid, notify: false });
    assert.equal(pendingV2.payment.signType, 'MD5');
    await before.server.close();

    // The same shop, same database and port, now with v3 keys added: v2 stays for older orders.
    const after = await startSandboxServer(t, databaseUrl, {
      sandboxInstance: sandbox,
      api: 'v2+v3',
      config: { port },
    });
    const fresh = await after.pendingOrder(1);
    assert.equal(fresh.payment.signType, 'RSA');
    assert.equal((await orderRow(after, fresh.order.id)).wechatpay_api, 'v3');
    // The v2 order still gets v2 parameters, and its v2 notification is read by v2.
    const again = await after.api('POST', `/api/v1/orders/${pendingV2.order.id}/payment`, {
      token: pendingV2.token,
    });
    const params = again.json.payment!;
    assert.equal(params.signType, 'MD5');
    sandbox.pay({ ...params, openid: pendingV2.openid });
    sandbox.pay({ ...fresh.payment, openid: fresh.openid });
    await until(async () => (await orderRow(after, pendingV2.order.id)).status === 'PAID');
    await until(async () => (await orderRow(after, fresh.order.id)).status === 'PAID');
    // The order is PAID before the sandbox has read the reply to its notify: wait for that too.
    const formats = () =>
      Object.fromEntries(sandbox.notifications().map((n) => [n.outTradeNo, [n.format, n.status]]));
    await until(async () =>
      [pendingV2, fresh].every((p) => formats()[p.order.outTradeNo]?.[1] === 'delivered'),
    );
    assert.deepEqual(formats()[pendingV2.order.outTradeNo], ['v2', 'delivered']);
    assert.deepEqual(formats()[fresh.order.outTradeNo], ['v3', 'delivered']);
    // The silently paid v2 order is found by a v2 query.
    const synced = await after.api('GET', `/api/v1/orders/${silentV2.order.id}?sync=1`, {
      token: silentV2.token,
    });
    assert.equal(synced.json.order?.status, 'PAID', synced.text);
    // A refund of the v2 order goes through v2 (v2 refund notification), of the v3 one through v3.
    await refundOf(after, paidV2.id, 100);
    await refundOf(after, fresh.order.id, 100);
    await until(async () => (await refundStatus(after, paidV2.id)) === 'SUCCESS');
    await until(async () => (await refundStatus(after, fresh.order.id)) === 'SUCCESS');
    const refundFormats = Object.fromEntries(
      sandbox
        .notifications()
        .filter((n) => n.kind === 'refund')
        .map((n) => [n.outTradeNo, n.format]),
    );
    assert.equal(refundFormats[paidV2.outTradeNo], 'v2');
    assert.equal(refundFormats[fresh.order.outTradeNo], 'v3');
    // The day's bill comes through v3, with the trades of both APIs.
    const day = sandbox.trade(fresh.order.outTradeNo)!.paidAt!;
    sandbox.advanceClock(2 * 86_400_000);
    const date = new Date(Date.parse(day) + 8 * 3600_000).toISOString().slice(0, 10);
    const bill = await after.server.payments.context.gateway.downloadBill(date, 'SUCCESS');
    const billed = new Set(bill?.rows.map((r) => r.outTradeNo));
    for (const o of [pendingV2.order, paidV2, fresh.order]) {
      assert.ok(billed.has(o.outTradeNo), `${o.outTradeNo} in the bill`);
    }
  });
});

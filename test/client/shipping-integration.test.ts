/**
 * After the payment, through the client library against the real server and sandbox (demo
 * mode over loopback), on SQLite and PostgreSQL: a virtual order goes from preparing to shipped
 * by itself; the buyer confirms receipt with `wx.openBusinessView` (`weappOrderConfirm`, played
 * by the sandbox), WeChat's settlement push reaches the server and the order reads received.
 * A buyer who backs out of WeChat's page changes nothing; another user's order is not found.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromWx } from '../../src/client/adapters.js';
import { createMinipayClient } from '../../src/client/client.js';
import { MinipayError } from '../../src/client/errors.js';
import { createSandboxWx } from '../../src/client/sandbox-wx.js';
import { type Demo, eventually, startDemo } from '../support/demo.js';
import { describeOnStores } from '../support/stores.js';

function phone(demo: Demo, receipt: () => 'confirm' | 'cancel' = () => 'confirm') {
  const wx = createSandboxWx({
    sandboxUrl: demo.sandbox.url,
    appId: demo.sandbox.credentials.appId,
    receipt,
  });
  return createMinipayClient({
    baseUrl: demo.url,
    platform: fromWx(wx),
    confirm: { attempts: 30, intervalMs: 100 },
  });
}

describeOnStores('client: shipping and receipt', (stores) => {
  test('virtual order: preparing → shipped by itself; confirm receipt → received', async (t) => {
    const demo = await startDemo(t, await stores.freshUrl(), {
      shipping: { retryBaseMs: 20, retryCapMs: 100 },
    });
    let choice: 'confirm' | 'cancel' = 'cancel';
    const client = phone(demo, () => choice);
    const { order, payment } = await client.checkout([
      { productId: 'prd_member_month', quantity: 1 },
    ]);
    assert.equal(await client.shipping(order), null, 'nothing to ship before payment');
    const paid = await client.pay({ order, payment });
    assert.equal(paid.status, 'paid');
    await eventually(async () => (await client.shipping(order))?.stage === 'shipped');
    const shipped = (await client.shipping(order))!;
    assert.equal(shipped.logisticsType, 'virtual');
    assert.deepEqual(shipped.confirmReceipt, {
      businessType: 'weappOrderConfirm',
      extraData: { transaction_id: paid.order.transactionId },
    });

    const backedOut = await client.confirmReceipt(order);
    assert.equal(backedOut?.stage, 'shipped', 'the buyer left WeChat’s page without confirming');

    choice = 'confirm';
    const received = await client.confirmReceipt(order);
    assert.equal(received?.stage, 'received', JSON.stringify(received));
    assert.ok(received?.receiptConfirmedAt);
    assert.equal(received?.confirmReceipt, null);

    const stranger = phone(demo);
    await assert.rejects(stranger.shipping(order), (err: unknown) => {
      assert.ok(err instanceof MinipayError);
      assert.equal(err.status, 404);
      return true;
    });
  });
});

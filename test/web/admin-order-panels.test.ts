/**
 * The admin console's order page after the payment (/admin/#/orders/:id) in headless Chromium,
 * against demo mode: the shipment panel (state, WeChat's answer, parcels, WeChat's own view
 * through get_order), the receipt reminder with its result (WeChat takes one per order: the
 * second shows WeChat's errcode), the pushes WeChat sent about the order (the settlement once
 * the buyer confirms receipt), and the subscribe message (sent on the second attempt after
 * WeChat was busy); an unpaid order shows none of these panels.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import type { Page } from 'playwright-core';
import { webPages } from '../../src/server/web-pages.js';
import { browserSkipReason, launchBrowser, openPage, seeText } from '../support/browser.js';
import { checkout, type Demo, eventually, startDemo } from '../support/demo.js';

const skip = browserSkipReason();
const FAST = { retryBaseMs: 10, retryCapMs: 50, maxAttempts: 4 };

async function demoFor(t: TestContext): Promise<Demo> {
  const dir = mkdtempSync(join(tmpdir(), 'minipay-console-panels-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return startDemo(t, `sqlite:${join(dir, 'demo.sqlite')}`, {
    plugins: [webPages()],
    shipping: FAST,
    subscribeRetry: FAST,
  });
}

async function signIn(demo: Demo, page: Page) {
  await page.getByTestId('token').fill(demo.launched.adminToken!);
  await page.getByTestId('sign-in').click();
}

describe('admin console: the order page after the payment, in Chromium', {
  skip: skip ?? false,
}, () => {
  test('shipment, WeChat’s view, receipt reminder, pushes and subscribe messages', async (t) => {
    const demo = await demoFor(t);
    const admin = demo.launched.adminToken!;
    await demo.sandbox.setFaults({
      platformErrcodes: { '/cgi-bin/message/subscribe/send': { '-1': 1 } },
    });
    const { token, openid } = await demo.login();
    await fetch(`${demo.sandbox.url}/sandbox/v1/subscriptions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ openid, templateIds: ['sandbox-payment-success'] }),
    });
    const { order, payment } = await checkout(demo, token, 'prd_tea_cup', 1);
    demo.sandbox.pay({ openid, ...payment });
    const shipping = demo.launched.server.payments.shipping!;
    await eventually(async () => (await shipping.shipment(order.id)) !== null);
    const shipped = await demo.api('POST', `/admin/v1/orders/${order.id}/ship`, {
      token: admin,
      body: {
        logisticsType: 'express',
        parcels: [{ trackingNo: 'YT7001', expressCompany: 'YTO' }],
      },
    });
    assert.equal(shipped.status, 200, shipped.text);
    const messages = demo.launched.server.payments.subscribeMessages!;
    await eventually(async () => {
      const { messages: list } = await messages.list({ orderId: order.id });
      return list[0]?.outcome === 'sent';
    });
    // The shipped-stage push WeChat sends after the upload.
    await eventually(
      async () => (await demo.launched.server.payments.pushes.ofOrder(order.id)).length === 1,
    );

    const browser = await launchBrowser(t);
    const { page, errors } = await openPage(browser, `${demo.url}/admin/#/orders/${order.id}`);
    await signIn(demo, page);
    const panel = page.getByTestId('shipment-panel');
    await seeText(panel.getByTestId('shipment-status'), '已发货');
    await seeText(panel.getByTestId('shipment-logistics'), 'express');
    await seeText(panel.getByTestId('shipment-answer'), 'ok');
    await seeText(panel.getByTestId('shipment-parcels'), 'YT7001');
    await panel.getByTestId('wechat-view').click();
    await seeText(panel.getByTestId('wechat-shipping'), 'shipped');
    await seeText(panel.getByTestId('wechat-shipping'), 'YT7001');

    await panel.getByTestId('remind-receipt').click();
    await seeText(panel.getByTestId('shipment-notice'), '微信已受理');
    // WeChat takes one reminder per order: the panel says when, and offers no second one.
    await seeText(panel.getByTestId('shipment-reminded'), '20');
    assert.equal(await panel.getByTestId('remind-receipt').count(), 0, 'no second reminder');

    const sent = page.getByTestId('messages-panel').getByTestId('message-paid');
    await seeText(sent.getByTestId('message-outcome'), '已发送');
    await seeText(sent.getByTestId('message-result'), '2');
    const pushes = page.getByTestId('pushes-panel');
    await seeText(pushes, 'trade_manage_order_settlement');
    await seeText(pushes, '已记录');

    // The buyer confirms receipt: WeChat pushes the settlement, the page shows it applied.
    const confirm = await fetch(`${demo.sandbox.url}/sandbox/v1/confirm-receipt`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ outTradeNo: order.outTradeNo }),
    });
    assert.equal(confirm.status, 200);
    await eventually(async () => (await shipping.shipment(order.id))?.settledAt !== null);
    await page.reload();
    await seeText(page.getByTestId('pushes-panel'), '已处理');
    assert.notEqual(await panel.getByTestId('shipment-settled').textContent(), '—');
    assert.equal(await panel.getByTestId('remind-receipt').count(), 0, 'received: no reminder');

    // An unpaid order has no shipment, pushes or messages to show.
    const unpaid = await checkout(demo, token, 'prd_sample', 1);
    await page.goto(`${demo.url}/admin/#/orders/${unpaid.order.id}`);
    await page.getByTestId('order-detail').waitFor();
    assert.equal(await page.getByTestId('shipment-panel').count(), 0);
    assert.equal(await page.getByTestId('messages-panel').count(), 0);
    assert.deepEqual(errors, []);
  });
});

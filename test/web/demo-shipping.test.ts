/**
 * The browser demo (/demo/) after the payment, in headless Chromium: a virtual product paid in
 * the cashier shows its delivery go from 待发货 to 已发货 by itself (the server reported it to
 * the sandbox's WeChat); 确认收货 plays `wx.openBusinessView` (weappOrderConfirm) and the page
 * shows 已收货 once WeChat's settlement push has reached the server.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { webPages } from '../../src/server/web-pages.js';
import { browserSkipReason, launchBrowser, openPage, seeText } from '../support/browser.js';
import { startDemo } from '../support/demo.js';

const skip = browserSkipReason();

describe('demo page (/demo/): shipping and receipt in Chromium', { skip: skip ?? false }, () => {
  test('a virtual order ships by itself; the buyer confirms receipt', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'minipay-web-shipping-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const demo = await startDemo(t, `sqlite:${join(dir, 'demo.sqlite')}`, {
      plugins: [webPages()],
      shipping: { retryBaseMs: 20, retryCapMs: 100 },
    });
    const browser = await launchBrowser(t);
    const { page, errors } = await openPage(browser, `${demo.url}/demo/`);
    await page.getByTestId('login').click();
    await page.getByTestId('buy-prd_member_month').click();
    const cashier = page.frameLocator('[data-testid=cashier]');
    await seeText(cashier.locator('#amount'), '¥ 9.90');
    await cashier.locator('#pay').click();
    await seeText(page.getByTestId('order-status'), '已支付 Paid');
    await seeText(page.getByTestId('shipping-stage'), '已发货 · Shipped', 20_000);
    await page.getByTestId('confirm-receipt').click();
    await seeText(page.getByTestId('shipping-stage'), '已收货 · Received', 20_000);
    assert.equal(await page.getByTestId('confirm-receipt').count(), 0);
    const shipment = await demo.launched.server.store.db
      .selectFrom('shipments')
      .select(['status', 'receipt_confirmed_at', 'settled_at'])
      .executeTakeFirstOrThrow();
    assert.equal(shipment.status, 'UPLOADED');
    assert.ok(shipment.receipt_confirmed_at && shipment.settled_at);
    assert.deepEqual(errors, []);
  });
});

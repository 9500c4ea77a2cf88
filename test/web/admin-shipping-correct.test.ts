/**
 * The console's shipping tab corrects uploaded shipping info (WeChat's one correction) in
 * headless Chromium against demo mode: an uploaded order offers "correct", the dialog opens
 * with what WeChat has, the corrected tracking number reaches WeChat and the row says it was
 * corrected (no second offer); WeChat's "no correction left" (10060003) is shown in the dialog.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import { webPages } from '../../src/server/web-pages.js';
import { browserSkipReason, launchBrowser, openPage, seeText } from '../support/browser.js';
import { checkout, type Demo, eventually, startDemo } from '../support/demo.js';

const skip = browserSkipReason();
const FAST = { retryBaseMs: 20, retryCapMs: 100, maxAttempts: 4 };

async function demoFor(t: TestContext): Promise<Demo> {
  const dir = mkdtempSync(join(tmpdir(), 'minipay-console-correct-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return startDemo(t, `sqlite:${join(dir, 'demo.sqlite')}`, {
    plugins: [webPages()],
    shipping: FAST,
  });
}

/** A paid physical order shipped by express (YTO, YT100). */
async function shipped(demo: Demo) {
  const { token, openid } = await demo.login();
  const { order, payment } = await checkout(demo, token, 'prd_tea_cup', 1);
  demo.sandbox.pay({ openid, ...payment });
  const shipping = demo.launched.server.payments.shipping!;
  await eventually(async () => (await shipping.shipment(order.id)) !== null);
  const done = await shipping.ship(order.id, {
    logisticsType: 'express',
    parcels: [{ trackingNo: 'YT100', expressCompany: 'YTO' }],
  });
  assert.equal(done.status, 'UPLOADED');
  return order;
}

describe('admin console: correcting shipping info in Chromium', { skip: skip ?? false }, () => {
  test('correct a tracking number once; WeChat’s 10060003 is shown', async (t) => {
    const demo = await demoFor(t);
    const first = await shipped(demo);
    const second = await shipped(demo);
    const browser = await launchBrowser(t);
    const { page, errors } = await openPage(browser, `${demo.url}/admin/#/shipping`);
    await page.getByTestId('token').fill(demo.launched.adminToken!);
    await page.getByTestId('sign-in').click();
    await page.getByTestId('shipment-status').selectOption('UPLOADED');

    const row = page.getByTestId(`shipment-row-${first.id}`);
    await seeText(row, '已发货');
    await row.getByTestId('correct-shipment').click();
    const dialog = page.getByTestId('ship-dialog');
    await seeText(dialog, '微信仅允许修改一次');
    const tracking = dialog.getByTestId('parcel-0').getByTestId('ship-tracking');
    assert.equal(await tracking.inputValue(), 'YT100', 'opened with what WeChat has');
    await tracking.fill('YT200');
    await dialog.getByTestId('ship-submit').click();
    await seeText(row.getByTestId('shipment-corrected'), '已修改');
    assert.equal(await row.getByTestId('correct-shipment').count(), 0, 'offered once');
    const view = await demo.api('GET', `/admin/v1/orders/${first.id}/shipment/wechat`, {
      token: demo.launched.adminToken!,
    });
    const parcels = (view.json as unknown as { parcels: { trackingNo: string }[] }).parcels;
    assert.deepEqual(
      parcels.map((p) => p.trackingNo),
      ['YT200'],
    );

    // WeChat has no correction left for the second order (made in WeChat's own admin).
    await demo.sandbox.setFaults({
      platformErrcodes: { '/wxa/sec/order/upload_shipping_info': { '10060003': 1 } },
    });
    const next = page.getByTestId(`shipment-row-${second.id}`);
    await next.getByTestId('correct-shipment').click();
    await dialog.getByTestId('parcel-0').getByTestId('ship-tracking').fill('YT300');
    await dialog.getByTestId('ship-submit').click();
    await seeText(dialog.getByTestId('ship-problem'), 'CORRECTION_USED');
    await seeText(dialog.getByTestId('ship-problem'), '10060003');
    assert.deepEqual(errors, []);
  });
});

/**
 * The admin console's shipping tab (/admin/#/shipping) in headless Chromium, against demo
 * mode (the sandbox plays WeChat's mini program platform): the banner says whether WeChat
 * manages the mini program's trades; a paid physical order awaits shipment; the merchant ships
 * it by express in two parcels (a courier picked from WeChat's list, SF with the receiver's
 * phone), and WeChat has both; an upload WeChat refuses shows its errcode and advice and is
 * uploaded again with Retry.
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
  const dir = mkdtempSync(join(tmpdir(), 'minipay-console-shipping-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return startDemo(t, `sqlite:${join(dir, 'demo.sqlite')}`, {
    plugins: [webPages()],
    shipping: FAST,
  });
}

async function paid(demo: Demo, phone?: string) {
  const { token, openid } = await demo.login();
  if (phone) {
    const res = await fetch(`${demo.sandbox.url}/sandbox/v1/phone-code`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ openid, phoneNumber: phone }),
    });
    const { code } = (await res.json()) as { code: string };
    const shared = await demo.api('POST', '/api/v1/me/phone', { token, body: { code } });
    assert.equal(shared.status, 200, shared.text);
  }
  const { order, payment } = await checkout(demo, token, 'prd_tea_cup', 1);
  demo.sandbox.pay({ openid, ...payment });
  const shipping = demo.launched.server.payments.shipping!;
  await eventually(async () => (await shipping.shipment(order.id)) !== null);
  return order;
}

describe('admin console: shipping in Chromium', { skip: skip ?? false }, () => {
  test('ship an express order in two parcels; a refused upload is shown and retried', async (t) => {
    const demo = await demoFor(t);
    const first = await paid(demo, '13612345678');
    const browser = await launchBrowser(t);
    const { page, errors } = await openPage(browser, `${demo.url}/admin/#/shipping`);
    await page.getByTestId('token').fill(demo.launched.adminToken!);
    await page.getByTestId('sign-in').click();

    await seeText(page.getByTestId('trade-managed'), '微信已对本小程序开启发货信息管理');
    const row = page.getByTestId(`shipment-row-${first.id}`);
    await seeText(row, first.outTradeNo);
    await seeText(row, '待发货');

    await row.getByTestId('ship').click();
    const dialog = page.getByTestId('ship-dialog');
    // Without a courier nothing is sent.
    await dialog.getByTestId('ship-submit').click();
    await seeText(dialog.getByTestId('ship-problem'), '请选择快递公司');
    await dialog.getByTestId('parcel-0').getByTestId('ship-courier').selectOption('YTO');
    await dialog.getByTestId('parcel-0').getByTestId('ship-tracking').fill('YT9001');
    await dialog.getByTestId('add-parcel').click();
    await dialog.getByTestId('parcel-1').getByTestId('ship-courier').selectOption('SF');
    await dialog.getByTestId('parcel-1').getByTestId('ship-tracking').fill('SF9002');
    await dialog.getByTestId('parcel-1').getByTestId('ship-phone').fill('13812345678');
    await dialog.getByTestId('ship-submit').click();
    await seeText(row, '已发货');
    assert.equal(await page.getByTestId('ship-dialog').count(), 0, 'the dialog closed');
    const wechat = await demo.api('GET', `/admin/v1/orders/${first.id}/shipment/wechat`, {
      token: demo.launched.adminToken!,
    });
    const view = wechat.json as unknown as { stateName: string; parcels: { trackingNo: string }[] };
    assert.equal(view.stateName, 'shipped');
    assert.deepEqual(
      view.parcels.map((p) => p.trackingNo),
      ['YT9001', 'SF9002'],
    );

    // WeChat refuses the next upload (no permission): the console shows why; Retry uploads it.
    await demo.sandbox.setFaults({
      platformErrcodes: { '/wxa/sec/order/upload_shipping_info': { '48001': 1 } },
    });
    const second = await paid(demo);
    await page.getByTestId('refresh').click();
    const next = page.getByTestId(`shipment-row-${second.id}`);
    await next.getByTestId('ship').click();
    await page.getByTestId('ship-logistics').selectOption('pick-up');
    await page.getByTestId('ship-submit').click();
    await seeText(next.getByTestId('shipment-error'), '48001');
    await seeText(next, '失败');
    await next.getByTestId('retry-upload').click();
    await seeText(next, '已发货');
    // The order page shows the buyer's phone number masked, never in full.
    await page.getByTestId(`shipment-row-${second.id}`).waitFor();
    await page.goto(`${demo.url}/admin/#/orders/${first.id}`);
    await seeText(page.getByTestId('buyer'), '136****5678');
    assert.equal(await page.getByText('13612345678').count(), 0);
    assert.deepEqual(errors, []);
  });
});

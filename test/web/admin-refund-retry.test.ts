/**
 * The console's part of refunds WeChat refuses for now, in headless Chromium against demo
 * mode: the order page shows why a refund waits and when it is sent again, "retry now" sends
 * it at once (same out_refund_no), and "give up" makes it FAILED with its amount free again.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { Refund } from '../../src/payments/index.js';
import { webPages } from '../../src/server/web-pages.js';
import { browserSkipReason, launchBrowser, openPage, seeText } from '../support/browser.js';
import { checkout, type Demo, eventually, startDemo, status } from '../support/demo.js';

const skip = browserSkipReason();

async function paidOrder(demo: Demo) {
  const { token, openid } = await demo.login();
  const { order, payment } = await checkout(demo, token, 'prd_sample', 1);
  demo.sandbox.pay({ openid, ...payment });
  await eventually(async () => (await status(demo, token, order.id)) === 'PAID');
  return order;
}

async function refundOf(demo: Demo, orderId: string): Promise<Refund> {
  const res = await demo.api('GET', `/admin/v1/refunds?orderId=${orderId}`, {
    token: demo.launched.adminToken!,
  });
  return (res.json as unknown as { refunds: Refund[] }).refunds[0]!;
}

describe('admin console: refunds WeChat refuses for now, in Chromium', {
  skip: skip ?? false,
}, () => {
  test('why it waits, retry now, give up', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'minipay-console-refund-retry-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    // No background jobs: only the buttons send a waiting refund again.
    const demo = await startDemo(t, `sqlite:${join(dir, 'demo.sqlite')}`, {
      plugins: [webPages()],
      jobs: false,
    });
    const first = await paidOrder(demo);
    const second = await paidOrder(demo);
    await demo.sandbox.setFaults({ errCodes: { '/secapi/pay/refund': { NOTENOUGH: 4 } } });
    for (const order of [first, second]) {
      const res = await demo.api('POST', `/admin/v1/orders/${order.id}/refunds`, {
        token: demo.launched.adminToken!,
        body: { amountFen: 1 },
        headers: { 'idempotency-key': `console-refund-retry-${order.id}` },
      });
      assert.equal(res.status, 201, res.text);
    }
    const waiting = await refundOf(demo, first.id);
    assert.equal(waiting.status, 'PENDING');

    const browser = await launchBrowser(t);
    const { page, errors } = await openPage(browser, `${demo.url}/admin/#/orders/${first.id}`);
    await page.getByTestId('token').fill(demo.launched.adminToken!);
    await page.getByTestId('sign-in').click();
    const why = page.getByTestId(`refund-waiting-${waiting.id}`);
    await seeText(why, '微信暂不受理');
    await seeText(why, 'NOTENOUGH');
    await seeText(why, '基本账户余额不足');

    // Retry now: WeChat refuses once more.
    await page.getByTestId(`refund-retry-${waiting.id}`).click();
    await seeText(page.getByTestId('notice'), '已重新提交退款');
    await eventually(async () => (await refundOf(demo, first.id)).retry?.attempts === 2);
    await seeText(why, 'NOTENOUGH');

    // Give up: confirmed in a dialog; FAILED, and nothing waits any more.
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByTestId(`refund-give-up-${waiting.id}`).click();
    await seeText(page.getByTestId('notice'), '退款已放弃');
    await seeText(page.getByTestId(`refund-${waiting.id}`), 'GIVEN_UP');
    assert.equal(await why.count(), 0);
    const given = await refundOf(demo, first.id);
    assert.deepEqual([given.status, given.failure?.code], ['FAILED', 'GIVEN_UP']);
    assert.equal(demo.sandbox.refund(given.outRefundNo), undefined, 'nothing at WeChat');

    // The second order's refund: WeChat refuses once more, then takes it on "retry now".
    const other = await refundOf(demo, second.id);
    await page.goto(`${demo.url}/admin/#/orders/${second.id}`);
    await page.getByTestId(`refund-retry-${other.id}`).click();
    await seeText(page.getByTestId(`refund-waiting-${other.id}`), 'NOTENOUGH');
    await page.getByTestId(`refund-retry-${other.id}`).click();
    await eventually(async () => (await refundOf(demo, second.id)).status === 'SUCCESS');
    assert.ok(demo.sandbox.refund(other.outRefundNo), 'sent with its first out_refund_no');
    await page.reload();
    await seeText(page.getByTestId(`refund-${other.id}`), '成功');
    assert.equal(await page.getByTestId(`refund-waiting-${other.id}`).count(), 0);
    assert.deepEqual(errors, []);
  });
});

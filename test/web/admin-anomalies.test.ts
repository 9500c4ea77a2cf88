/**
 * The admin console's anomalies tab (/admin/#/anomalies) in headless Chromium, against demo
 * mode. Anomalies come the way they do in production: a correctly
 * signed payment notify whose amount is not the order's, and a notify that does not verify.
 * A merchant sees them open, cannot resolve one without a note, resolves one with a note (it
 * leaves the open list and shows under resolved), follows an anomaly to its order, and sees
 * the server's reason when another admin resolved the anomaly first.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import type { Anomaly } from '../../src/payments/index.js';
import { webPages } from '../../src/server/web-pages.js';
import { buildPaymentNotify } from '../../src/wechatpay/notify.js';
import { browserSkipReason, launchBrowser, openPage, seeText } from '../support/browser.js';
import { checkout, type Demo, eventually, startDemo } from '../support/demo.js';

const skip = browserSkipReason();

async function demoFor(t: TestContext): Promise<Demo> {
  const dir = mkdtempSync(join(tmpdir(), 'minipay-console-anomalies-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return startDemo(t, `sqlite:${join(dir, 'demo.sqlite')}`, { plugins: [webPages()] });
}

async function anomalies(demo: Demo, query = ''): Promise<Anomaly[]> {
  const res = await demo.api('GET', `/admin/v1/anomalies${query}`, {
    token: demo.launched.adminToken,
  });
  assert.equal(res.status, 200, res.text);
  return (res.json as unknown as { anomalies: Anomaly[] }).anomalies;
}

/** A notify signed with the merchant's key (as WeChat would) reporting 1 fen for the order. */
async function wrongAmountNotify(demo: Demo, outTradeNo: string) {
  const { appId, mchId, mchKey } = demo.sandbox.credentials;
  const body = buildPaymentNotify(
    {
      appid: appId,
      mch_id: mchId,
      nonce_str: 'consoleAnomaly01',
      out_trade_no: outTradeNo,
      result_code: 'SUCCESS',
      return_code: 'SUCCESS',
      time_end: '20261201120000',
      total_fee: '1',
      trade_type: 'JSAPI',
      transaction_id: '4200000000202612010000000001',
      openid: 'o-console-anomaly',
    },
    mchKey,
    'MD5',
  );
  const res = await demo.api('POST', '/wechatpay/v2/notify', {
    raw: body,
    headers: { 'content-type': 'text/xml' },
  });
  assert.ok(res.text.includes('FAIL'), `a wrong amount is refused: ${res.text}`);
}

describe('admin console: anomalies in Chromium', { skip: skip ?? false }, () => {
  test('open anomalies, a note is required, resolve with a note, already resolved elsewhere', async (t) => {
    const demo = await demoFor(t);
    const { token } = await demo.login();
    const { order } = await checkout(demo, token);
    await wrongAmountNotify(demo, order.outTradeNo);
    await demo.api('POST', '/wechatpay/v2/notify', {
      raw: '<xml><return_code>SUCCESS</return_code><sign>forged</sign></xml>',
      headers: { 'content-type': 'text/xml' },
    });
    let open: Anomaly[] = [];
    await eventually(async () => {
      open = await anomalies(demo, '?status=open');
      return open.length === 2;
    });
    const mismatch = open.find((a) => a.kind === 'amount_mismatch')!;
    const invalid = open.find((a) => a.orderId === null)!;
    assert.ok(mismatch && invalid, JSON.stringify(open));

    const browser = await launchBrowser(t);
    const { page, errors } = await openPage(browser, `${demo.url}/admin/#/anomalies`);
    await page.getByTestId('token').fill(demo.launched.adminToken!);
    await page.getByTestId('sign-in').click();

    // Both open, with what was seen; the order's anomaly names its out_trade_no.
    const mismatchRow = page.getByTestId(`anomaly-row-${mismatch.id}`);
    const invalidRow = page.getByTestId(`anomaly-row-${invalid.id}`);
    await seeText(mismatchRow, 'amount_mismatch');
    await seeText(mismatchRow, order.outTradeNo);
    await seeText(mismatchRow, '"reportedFen":1');
    await seeText(mismatchRow, '未处理');
    await seeText(invalidRow, invalid.kind);

    // No note, no resolution: a readable message, nothing sent.
    await mismatchRow.getByTestId('resolve-note').fill('   ');
    await mismatchRow.getByTestId('resolve').click();
    await seeText(mismatchRow.getByTestId('resolve-problem'), '请先写处理说明');
    assert.equal((await anomalies(demo, '?status=open')).length, 2, 'nothing resolved');

    // Resolved with a note: the row says so at once, and leaves the open list on refresh.
    const note = '已与微信支付核实：1 分的通知是伪造的，订单未支付';
    await mismatchRow.getByTestId('resolve-note').fill(note);
    await mismatchRow.getByTestId('resolve').click();
    await seeText(mismatchRow, '已解决');
    await seeText(mismatchRow.getByTestId('resolution'), note);
    assert.equal(await mismatchRow.getByTestId('resolve-problem').count(), 0);
    const stored = (await anomalies(demo, '?status=resolved')).find((a) => a.id === mismatch.id);
    assert.equal(stored?.resolution, note);
    await page.getByTestId('refresh').click();
    await seeText(invalidRow, '未处理');
    await eventually(async () => (await mismatchRow.count()) === 0, 10_000, 'left the open list');

    await page.getByTestId('anomaly-status').selectOption('resolved');
    await seeText(mismatchRow.getByTestId('resolution'), note);
    assert.equal(await invalidRow.count(), 0, 'the open one is not under resolved');

    // Another admin resolves the other one first: the console shows the server's reason.
    await page.getByTestId('anomaly-status').selectOption('open');
    await seeText(invalidRow, '未处理');
    const elsewhere = await demo.api('POST', `/admin/v1/anomalies/${invalid.id}/resolve`, {
      token: demo.launched.adminToken,
      body: { note: 'checked by a colleague' },
    });
    assert.equal(elsewhere.status, 200, elsewhere.text);
    await invalidRow.getByTestId('resolve-note').fill('me too');
    await invalidRow.getByTestId('resolve').click();
    await seeText(invalidRow.getByTestId('resolve-problem'), 'ANOMALY_ALREADY_RESOLVED');
    await seeText(invalidRow.getByTestId('resolve-problem'), 'checked by a colleague');

    // The order's anomaly links to the order.
    await page.getByTestId('anomaly-status').selectOption('');
    await mismatchRow.getByRole('link', { name: order.outTradeNo }).click();
    await seeText(page.getByTestId('detail-status'), '待支付');
    assert.deepEqual(errors, []);
  });
});

/**
 * The browser demo (/demo/) in headless Chromium: a user logs in, buys, pays in the sandbox's
 * cashier and watches the order turn PAID; then orders again, closes the cashier and cancels:
 * CLOSING, then CLOSED once WeChat has closed the trade; a product with a stock shows what is
 * left.
 * The same on APIv3: the RSA parameters go through the page, the client and the cashier.
 * What the screen shows is checked against the server's own records.
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

describe('demo page (/demo/) in Chromium', { skip: skip ?? false }, () => {
  test('log in, buy, pay in the cashier → PAID; buy, close the cashier, cancel → CLOSING → CLOSED', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'minipay-web-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const demo = await startDemo(t, `sqlite:${join(dir, 'demo.sqlite')}`, {
      plugins: [webPages()],
    });
    const limited = await demo.api('POST', '/admin/v1/products', {
      token: demo.launched.adminToken,
      body: { id: 'prd_last_two', name: '最后两件 Last two', priceFen: 200, stock: 2 },
    });
    assert.equal(limited.status, 201, limited.text);
    const browser = await launchBrowser(t);
    const { page, errors } = await openPage(browser, `${demo.url}/demo/`);

    await page.getByTestId('login').click();
    const openid = (await page.getByTestId('openid').textContent())?.trim();
    assert.match(openid ?? '', /^o[A-Za-z0-9_-]+$/, 'the sandbox user the server logged in');

    // Buy two jasmine teas and pay in the sandbox's own cashier page.
    const tea = page.getByTestId('product-prd_jasmine_tea');
    await tea.getByRole('button', { name: 'more' }).click();
    await page.getByTestId('buy-prd_jasmine_tea').click();
    const cashier = page.frameLocator('[data-testid=cashier]');
    await seeText(cashier.locator('#amount'), '¥ 76.00');
    await cashier.locator('#pay').click();
    await seeText(page.getByTestId('order-status'), '已支付 Paid');
    await seeText(page.getByTestId('order'), '¥76.00');

    const paid = await demo.launched.server.store.db
      .selectFrom('orders')
      .selectAll()
      .where('status', '=', 'PAID')
      .execute();
    assert.equal(paid.length, 1, 'the server has exactly one paid order');
    assert.equal(paid[0]!.total_fen, 7600);
    const notified = demo.sandbox
      .notifications()
      .filter((n) => n.outTradeNo === paid[0]!.out_trade_no);
    assert.ok(
      notified.some((n) => n.status === 'delivered'),
      'the notify reached the server',
    );

    // Order a one-fen sample, close the cashier (the order stays open), then cancel it.
    await page.getByTestId('buy-prd_sample').click();
    await cashier.locator('#cancel').click();
    await seeText(page.getByTestId('order-status'), '待支付 Pending');
    // WeChat closes no order younger than 5 minutes (0.3 s at the sandbox's 1000×, which a slow
    // machine may pass), and its first accepted close here closes nothing: CLOSING first
    // whatever the timing, then the page follows the order to CLOSED once the close job has
    // closed it.
    await demo.sandbox.setFaults({ closeLeavesNotpay: 1 });
    await page.getByTestId('cancel').click();
    await seeText(page.getByTestId('log'), 'cancel → 取消中 Closing');
    await seeText(page.getByTestId('order-status'), '已关闭 Closed');
    const closed = await demo.launched.server.store.db
      .selectFrom('orders')
      .select(['status', 'out_trade_no'])
      .where('total_fen', '=', 1)
      .executeTakeFirstOrThrow();
    assert.equal(closed.status, 'CLOSED');
    assert.equal(demo.sandbox.trade(closed.out_trade_no)?.tradeState, 'CLOSED');

    // A product with a stock shows what is left: an open order holds it, a closed one gives
    // it back; none left, it cannot be bought.
    const stock = page.getByTestId('stock-prd_last_two');
    await seeText(stock, '库存 2 · 2 left');
    assert.equal(await page.getByTestId('stock-prd_sample').count(), 0, 'unlimited: no stock');
    await page.getByTestId('product-prd_last_two').getByRole('button', { name: 'more' }).click();
    await page.getByTestId('buy-prd_last_two').click();
    await cashier.locator('#cancel').click();
    await seeText(stock, '售罄 · Sold out');
    assert.equal(await page.getByTestId('buy-prd_last_two').isDisabled(), true);
    await page.getByTestId('cancel').click();
    await seeText(page.getByTestId('order-status'), '已关闭 Closed');
    await seeText(stock, '库存 2 · 2 left');

    // "New user" ends the session on the server too, then logs in as someone else.
    const sessionsBefore = await demo.launched.server.store.db
      .selectFrom('sessions')
      .select('token_hash')
      .execute();
    assert.equal(sessionsBefore.length, 1);
    await page.getByRole('button', { name: '换个用户 · new user' }).click();
    await page.getByTestId('login').click();
    const other = (await page.getByTestId('openid').textContent())?.trim();
    assert.match(other ?? '', /^o[A-Za-z0-9_-]+$/);
    assert.notEqual(other, openid, 'a different sandbox user');
    const sessionsAfter = await demo.launched.server.store.db
      .selectFrom('sessions')
      .select('token_hash')
      .execute();
    assert.equal(sessionsAfter.length, 1, 'the first session was ended on the server');
    assert.notEqual(sessionsAfter[0]?.token_hash, sessionsBefore[0]?.token_hash);
    assert.deepEqual(errors, [], 'no console errors on the page');
  });

  test('on APIv3 (MINIPAY_WECHATPAY_API=v3): the page and the client pass the RSA parameters through; the cashier pays', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'minipay-web-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const demo = await startDemo(t, `sqlite:${join(dir, 'demo.sqlite')}`, {
      plugins: [webPages()],
      env: { MINIPAY_WECHATPAY_API: 'v3' },
    });
    const browser = await launchBrowser(t);
    const { page, errors } = await openPage(browser, `${demo.url}/demo/`);
    await page.getByTestId('login').click();
    await seeText(page.getByTestId('openid'), 'o');
    await page.getByTestId('buy-prd_sample').click();
    const cashier = page.frameLocator('[data-testid=cashier]');
    await seeText(cashier.locator('#amount'), '¥ 0.01');
    await cashier.locator('#pay').click();
    await seeText(page.getByTestId('order-status'), '已支付 Paid');
    const paid = await demo.launched.server.store.db
      .selectFrom('orders')
      .selectAll()
      .where('status', '=', 'PAID')
      .executeTakeFirstOrThrow();
    assert.equal(paid.wechatpay_api, 'v3');
    const trade = demo.sandbox.trade(paid.out_trade_no);
    assert.equal(trade?.signType, 'RSA', 'the cashier paid with the RSA paySign');
    const notified = demo.sandbox.notifications().filter((n) => n.outTradeNo === paid.out_trade_no);
    assert.ok(notified.some((n) => n.format === 'v3' && n.status === 'delivered'));
    assert.deepEqual(errors, [], 'no console errors on the page');
  });
});

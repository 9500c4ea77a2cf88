import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { type Browser, chromium } from 'playwright-core';
import type { Sandbox } from '../../../src/sandbox/index.js';
import { payParams, prepay, sandboxFor } from '../support.js';

const CHROMIUM = process.env.MINIPAY_CHROMIUM ?? '/usr/bin/chromium';
const NOTIFY = 'http://127.0.0.1:9/wechatpay/v2/notify';

function cashierUrl(sandbox: Sandbox, params: Record<string, string>): string {
  return `${sandbox.url}/sandbox/v1/cashier?${new URLSearchParams(params)}`;
}

describe('the cashier page in a browser', {
  skip: !existsSync(CHROMIUM) && `no browser at ${CHROMIUM} (apt-get install chromium)`,
}, () => {
  let browser: Browser;
  before(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });
  after(() => browser?.close());

  /** A page embedding the cashier in an iframe; resolves the first message it posts. */
  async function embed(url: string) {
    const page = await browser.newPage();
    const csp: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/.test(m.text())) csp.push(m.text());
    });
    await page.setContent(`<iframe id="cashier" src="${url}" width="420" height="700"></iframe>`);
    // A string, because the test's TypeScript has no DOM types; it runs in the page.
    const message = page.evaluate(
      'new Promise((resolve) => window.addEventListener("message", (e) => resolve(e.data)))',
    ) as Promise<Record<string, string>>;
    const frame = page.frameLocator('#cashier');
    return { page, frame, message, csp };
  }

  test('shows the amount and description; Pay posts requestPayment:ok and pays the trade', async (t) => {
    const sandbox = await sandboxFor(t);
    const p = await prepay(sandbox, NOTIFY, { body: '一杯咖啡 Coffee', total_fee: 1250 });
    const { page, frame, message, csp } = await embed(
      cashierUrl(sandbox, { ...payParams(sandbox, p.prepayId), openid: p.openid }),
    );
    t.after(() => page.close());
    await assert.doesNotReject(frame.locator('#amount', { hasText: '¥ 12.50' }).waitFor());
    assert.equal(await frame.locator('#body').textContent(), '一杯咖啡 Coffee');
    assert.equal(await frame.locator('#outTradeNo').textContent(), p.outTradeNo);
    await frame.locator('#pay').click();
    const data = await message;
    assert.equal(data.type, 'minipay-sandbox:requestPayment');
    assert.equal(data.errMsg, 'requestPayment:ok');
    assert.equal(data.outTradeNo, p.outTradeNo);
    assert.equal(data.transactionId, sandbox.trade(p.outTradeNo)!.transactionId);
    assert.equal(sandbox.trade(p.outTradeNo)!.tradeState, 'SUCCESS');
    assert.deepEqual(csp, [], 'the page runs under its own CSP without violations');
  });

  test('Cancel posts requestPayment:fail cancel and leaves the trade unpaid', async (t) => {
    const sandbox = await sandboxFor(t);
    const p = await prepay(sandbox, NOTIFY);
    const { page, frame, message } = await embed(
      cashierUrl(sandbox, { ...payParams(sandbox, p.prepayId), openid: p.openid }),
    );
    t.after(() => page.close());
    await frame.locator('#pay:not([disabled])').waitFor();
    await frame.locator('#cancel').click();
    assert.equal((await message).errMsg, 'requestPayment:fail cancel');
    assert.equal(sandbox.trade(p.outTradeNo)!.tradeState, 'NOTPAY');
  });

  test('a tampered paySign is refused the way WeChat refuses it', async (t) => {
    const sandbox = await sandboxFor(t);
    const p = await prepay(sandbox, NOTIFY);
    const params = payParams(sandbox, p.prepayId, { key: 'k'.repeat(32) });
    const { page, frame, message } = await embed(
      cashierUrl(sandbox, { ...params, openid: p.openid }),
    );
    t.after(() => page.close());
    await frame.locator('#pay:not([disabled])').waitFor();
    await frame.locator('#pay').click();
    assert.match((await message).errMsg ?? '', /^requestPayment:fail paySign does not verify/);
    assert.equal(sandbox.trade(p.outTradeNo)!.tradeState, 'NOTPAY');
  });

  test('with returnUrl it navigates back with errMsg and transactionId in the query', async (t) => {
    const sandbox = await sandboxFor(t);
    const back = createServer((_req, res) => res.end('<p>back</p>'));
    back.listen(0, '127.0.0.1');
    await new Promise((r) => back.once('listening', r));
    t.after(() => new Promise((r) => back.close(r)));
    const returnUrl = `http://127.0.0.1:${(back.address() as AddressInfo).port}/paid?order=1`;
    const p = await prepay(sandbox, NOTIFY);
    const page = await browser.newPage();
    t.after(() => page.close());
    await page.goto(
      cashierUrl(sandbox, { ...payParams(sandbox, p.prepayId), openid: p.openid, returnUrl }),
    );
    await page.locator('#pay:not([disabled])').click();
    await page.waitForURL(/\/paid\?/);
    const url = new URL(page.url());
    assert.equal(url.searchParams.get('order'), '1');
    assert.equal(url.searchParams.get('errMsg'), 'requestPayment:ok');
    assert.equal(url.searchParams.get('transactionId'), sandbox.trade(p.outTradeNo)!.transactionId);
  });

  test('an unknown prepay says so and cannot be paid', async (t) => {
    const sandbox = await sandboxFor(t);
    const page = await browser.newPage();
    t.after(() => page.close());
    await page.goto(cashierUrl(sandbox, { ...payParams(sandbox, 'wx2026nope'), openid: 'oX' }));
    await page.locator('#result', { hasText: 'does not exist' }).waitFor();
    assert.equal(await page.locator('#pay').isDisabled(), true);
  });
});

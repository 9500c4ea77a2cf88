import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fromWx } from '../../src/client/adapters.js';
import { PlatformCallError } from '../../src/client/errors.js';
import { SANDBOX_OPENID_KEY, sandboxed } from '../../src/client/sandbox-platform.js';
import { createSandboxWx } from '../../src/client/sandbox-wx.js';
import { payParams, prepay, sandboxFor } from '../sandbox/support.js';

const NOTIFY_URL = 'http://127.0.0.1:9/wechatpay/v2/notify';

function paymentArgs(params: ReturnType<typeof payParams>) {
  const { appId: _implicit, ...args } = params;
  return args;
}

async function failure(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof PlatformCallError);
    return err.errMsg;
  }
  assert.fail('expected the wx call to fail');
}

describe('sandbox wx shim', () => {
  test('login gets a one-time code for a user the sandbox knows, and keeps that user', async (t) => {
    const sandbox = await sandboxFor(t);
    const wx = createSandboxWx({ sandboxUrl: sandbox.url, appId: sandbox.credentials.appId });
    const platform = fromWx(wx);
    const code = await platform.login();
    assert.match(wx.openid ?? '', /^o[A-Za-z0-9_-]{27}$/);
    const again = await platform.login();
    assert.notEqual(again, code, 'every login is a new code');
    const exchanged = await fetch(
      `${sandbox.url}/sns/jscode2session?${new URLSearchParams({
        appid: sandbox.credentials.appId,
        secret: sandbox.credentials.appSecret,
        js_code: again,
        grant_type: 'authorization_code',
      })}`,
    ).then((r) => r.json() as Promise<{ openid: string }>);
    assert.equal(exchanged.openid, wx.openid, 'the same user both times');
  });

  test('requestPayment pays the prepay as the logged-in user; the appId is added by "WeChat"', async (t) => {
    const sandbox = await sandboxFor(t);
    const wx = createSandboxWx({ sandboxUrl: sandbox.url, appId: sandbox.credentials.appId });
    const platform = fromWx(wx);
    await platform.login();
    const p = await prepay(sandbox, NOTIFY_URL, { openid: wx.openid });
    await platform.requestPayment(paymentArgs(payParams(sandbox, p.prepayId)));
    assert.equal(sandbox.trade(p.outTradeNo)?.tradeState, 'SUCCESS');
  });

  test('the user cancelling gives requestPayment:fail cancel and leaves the trade unpaid', async (t) => {
    const sandbox = await sandboxFor(t);
    const wx = createSandboxWx({
      sandboxUrl: sandbox.url,
      appId: sandbox.credentials.appId,
      payer: () => 'cancel',
    });
    const platform = fromWx(wx);
    await platform.login();
    const p = await prepay(sandbox, NOTIFY_URL, { openid: wx.openid });
    const errMsg = await failure(
      platform.requestPayment(paymentArgs(payParams(sandbox, p.prepayId))),
    );
    assert.equal(errMsg, 'requestPayment:fail cancel');
    assert.equal(sandbox.trade(p.outTradeNo)?.tradeState, 'NOTPAY');
  });

  test('a paySign made with the wrong key is refused the way WeChat refuses it', async (t) => {
    const sandbox = await sandboxFor(t);
    const wx = createSandboxWx({ sandboxUrl: sandbox.url, appId: sandbox.credentials.appId });
    const platform = fromWx(wx);
    await platform.login();
    const p = await prepay(sandbox, NOTIFY_URL, { openid: wx.openid });
    const forged = payParams(sandbox, p.prepayId, { key: 'x'.repeat(32) });
    const errMsg = await failure(platform.requestPayment(paymentArgs(forged)));
    assert.match(errMsg, /^requestPayment:fail PAYSIGN_INVALID/);
    assert.equal(sandbox.trade(p.outTradeNo)?.tradeState, 'NOTPAY');
  });

  test('request speaks JSON over fetch, any status is an answer, no answer is request:fail', async (t) => {
    const sandbox = await sandboxFor(t);
    const wx = createSandboxWx({ sandboxUrl: sandbox.url, appId: sandbox.credentials.appId });
    const platform = fromWx(wx);
    const res = await platform.request({
      url: `${sandbox.url}/sandbox/v1/login-code`,
      method: 'POST',
      header: {},
      data: { bogus: 1 },
      timeoutMs: 5000,
    });
    assert.equal(res.statusCode, 400);
    assert.equal((res.data as { error: { code: string } }).error.code, 'VALIDATION_FAILED');
    await sandbox.close();
    const errMsg = await failure(
      platform.request({ url: `${sandbox.url}/x`, method: 'GET', header: {}, timeoutMs: 5000 }),
    );
    assert.match(errMsg, /^request:fail /);
  });
});

describe('sandboxed platform (a real mini program against the sandbox)', () => {
  test('logs in and pays through the sandbox over the platform request, keeping the user', async (t) => {
    const sandbox = await sandboxFor(t);
    // The base platform's own login and requestPayment must not be used.
    const base = fromWx(createSandboxWx({ sandboxUrl: 'http://127.0.0.1:9', appId: 'wx0' }));
    const choices: ('pay' | 'cancel')[] = ['cancel', 'pay'];
    const platform = sandboxed(base, {
      sandboxUrl: sandbox.url,
      appId: sandbox.credentials.appId,
      payer: async () => choices.shift() ?? 'pay',
    });
    await platform.login();
    const openid = platform.storage.get(SANDBOX_OPENID_KEY);
    assert.match(openid ?? '', /^o/);
    await platform.login();
    assert.equal(platform.storage.get(SANDBOX_OPENID_KEY), openid, 'the same user again');
    const p = await prepay(sandbox, NOTIFY_URL, { openid });
    const args = paymentArgs(payParams(sandbox, p.prepayId));
    assert.equal(await failure(platform.requestPayment(args)), 'requestPayment:fail cancel');
    assert.equal(sandbox.trade(p.outTradeNo)?.tradeState, 'NOTPAY');
    await platform.requestPayment(args);
    assert.equal(sandbox.trade(p.outTradeNo)?.tradeState, 'SUCCESS');
    const again = await failure(platform.requestPayment(args));
    assert.match(again, /^requestPayment:fail ORDER_PAID: /);
  });

  test('with a cashier, the sandbox cashier page plays the sheet and its errMsg is the answer', async (t) => {
    const sandbox = await sandboxFor(t);
    const base = fromWx(createSandboxWx({ sandboxUrl: 'http://127.0.0.1:9', appId: 'wx0' }));
    const shown: URL[] = [];
    // What the cashier page does: cancel, or pay with the parameters in its own URL.
    const verdicts = ['cancel', 'pay', 'odd'];
    const platform = sandboxed(base, {
      sandboxUrl: `${sandbox.url}/`,
      appId: sandbox.credentials.appId,
      payer: async () => assert.fail('the cashier decides, not the payer'),
      cashier: async (url) => {
        const page = new URL(url);
        shown.push(page);
        const html = await fetch(url);
        assert.equal(html.status, 200);
        assert.match(html.headers.get('content-type') ?? '', /^text\/html/);
        const verdict = verdicts.shift();
        if (verdict === 'cancel') return 'requestPayment:fail cancel';
        if (verdict === 'odd') return 'the page went away';
        const paid = await fetch(new URL('pay', page), {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(Object.fromEntries(page.searchParams)),
        });
        return paid.ok ? 'requestPayment:ok' : `requestPayment:fail HTTP ${paid.status}`;
      },
    });
    await platform.login();
    const openid = platform.storage.get(SANDBOX_OPENID_KEY);
    const p = await prepay(sandbox, NOTIFY_URL, { openid });
    const args = paymentArgs(payParams(sandbox, p.prepayId));
    assert.equal(await failure(platform.requestPayment(args)), 'requestPayment:fail cancel');
    assert.equal(sandbox.trade(p.outTradeNo)?.tradeState, 'NOTPAY');
    await platform.requestPayment(args);
    assert.equal(sandbox.trade(p.outTradeNo)?.tradeState, 'SUCCESS');
    assert.equal(
      await failure(platform.requestPayment(args)),
      'requestPayment:fail the page went away',
    );

    const url = shown[0]!;
    assert.equal(url.origin + url.pathname, `${sandbox.url}/sandbox/v1/cashier`);
    assert.deepEqual(Object.fromEntries(url.searchParams), {
      appId: sandbox.credentials.appId,
      ...args,
      openid,
    });
  });

  test('with a cashier but nobody logged in, the sheet is not shown', async () => {
    const base = fromWx(createSandboxWx({ sandboxUrl: 'http://127.0.0.1:9', appId: 'wx0' }));
    const platform = sandboxed(base, {
      sandboxUrl: 'http://127.0.0.1:9',
      appId: 'wx0',
      cashier: async () => assert.fail('no cashier without a user'),
    });
    const params = {
      timeStamp: '1',
      nonceStr: 'n',
      package: 'prepay_id=x',
      signType: 'MD5' as const,
      paySign: 'S',
    };
    assert.equal(
      await failure(platform.requestPayment(params)),
      'requestPayment:fail log in first',
    );
  });
});

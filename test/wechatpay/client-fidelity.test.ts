/**
 * The v2 client on the WeChat rules of docs/wechat-rules.md: limits in bytes, answers without
 * appid/mch_id, refunds refused for now, bills not published yet, https notify_url, and the
 * failover to the backup domain.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type FailoverEvent, outRefundNo, WechatPayV2Client } from '../../src/wechatpay/index.js';
import {
  clientFor,
  FAKE,
  FakeWechat,
  fakeClient,
  order,
  pay,
  rejectsWith,
  sandboxFor,
  signedAnswer,
} from './support.js';

const REQUEST = {
  body: 'x',
  outTradeNo: 'T000001',
  totalFee: 1,
  spbillCreateIp: '1.1.1.1',
  notifyUrl: 'https://a.b/n',
  openid: 'o',
};

describe('v2 client: text limits are bytes of UTF-8', () => {
  test('body and attach of 127 bytes: 42 Chinese characters pass, 43 are refused before sending', async (t) => {
    const fake = await FakeWechat.start(t);
    const client = fakeClient(t, fake);
    for (const change of [{ body: '商'.repeat(43) }, { attach: '附'.repeat(43) }]) {
      const e = await rejectsWith(
        client.unifiedOrder({ ...REQUEST, ...change }),
        'rejected',
        'INVALID_ARGUMENT',
      );
      assert.match(e.message, /129 bytes of UTF-8; WeChat (allows|takes at most) 127/);
    }
    await rejectsWith(
      client.refund({
        outTradeNo: 'T000001',
        outRefundNo: 'R1',
        totalFee: 1,
        refundFee: 1,
        refundDesc: '退'.repeat(27),
      }),
      'rejected',
      'INVALID_ARGUMENT',
    );
    assert.equal(fake.requests.length, 0);
  });

  test('what fits in bytes is accepted by the sandbox, which counts the same way', async (t) => {
    const sandbox = await sandboxFor(t);
    const client = clientFor(t, sandbox);
    const { request } = await order(client, sandbox, {
      body: `${'商'.repeat(42)}x`,
      attach: '附'.repeat(42),
    });
    assert.equal(sandbox.trade(request.outTradeNo)!.body, `${'商'.repeat(42)}x`);
  });
});

describe('v2 client: notify_url', () => {
  test('WeChat Pay itself requires https; a sandbox may be told http', async (t) => {
    const wechat = new WechatPayV2Client({
      baseUrl: 'https://api.mch.weixin.qq.com',
      ...FAKE,
    });
    t.after(() => wechat.close());
    const e = await rejectsWith(
      wechat.unifiedOrder({ ...REQUEST, notifyUrl: 'http://shop.example/notify' }),
      'rejected',
      'INVALID_ARGUMENT',
    );
    assert.match(e.message, /notifyUrl must be https/);
    const sandbox = await sandboxFor(t);
    const client = clientFor(t, sandbox);
    await order(client, sandbox, { notifyUrl: 'http://127.0.0.1:9/notify' });
  });
});

describe('v2 client: answers without appid and mch_id', () => {
  test('accepted when absent (closeorder SUCCESS, orderquery NOTPAY), refused when present and wrong', async (t) => {
    const sandbox = await sandboxFor(t, {
      closeMinAgeMs: 0,
      faults: { omitMerchantIdsRate: { '/pay/closeorder': 1, '/pay/orderquery': 1 } },
    });
    const client = clientFor(t, sandbox);
    const { request } = await order(client, sandbox);
    const q = await client.orderQuery({ outTradeNo: request.outTradeNo });
    assert.equal(q.tradeState, 'NOTPAY');
    assert.equal(q.fields.mch_id, undefined);
    await client.closeOrder(request.outTradeNo);

    const fake = await FakeWechat.start(t);
    const strict = fakeClient(t, fake);
    fake.answer = () => ({
      body: signedAnswer({ mch_id: '1900000999', trade_state: 'NOTPAY', out_trade_no: 'T1' }),
    });
    await rejectsWith(strict.orderQuery({ outTradeNo: 'T000001' }), 'invalid', 'WRONG_MERCHANT');
    fake.answer = () => ({ body: signedAnswer({ appid: 'wx0000000000000009' }) });
    await rejectsWith(strict.closeOrder('T000001'), 'invalid', 'WRONG_MERCHANT');
  });
});

describe('v2 client: refunds WeChat refuses for now are `later`', () => {
  test('NOTENOUGH and FREQUENCY_LIMITED at /secapi/pay/refund; the same out_refund_no succeeds afterwards', async (t) => {
    const sandbox = await sandboxFor(t, {
      faults: { errCodes: { '/secapi/pay/refund': { NOTENOUGH: 1 } } },
    });
    const client = clientFor(t, sandbox);
    const { request, prepayId } = await order(client, sandbox, { totalFee: 1000 });
    pay(sandbox, prepayId, request.openid);
    const first = {
      outTradeNo: request.outTradeNo,
      outRefundNo: outRefundNo(),
      totalFee: 1000,
      refundFee: 100,
    };
    const short = await rejectsWith(client.refund(first), 'later', 'NOTENOUGH');
    assert.equal(short.retryable, false, 'later is not ambiguous: WeChat did nothing');
    assert.match(short.message, /same out_refund_no/);
    await client.refund(first);
    const second = { ...first, outRefundNo: outRefundNo() };
    await rejectsWith(client.refund(second), 'later', 'FREQUENCY_LIMITED');
    sandbox.advanceClock(60_000);
    assert.equal((await client.refund(second)).refundFee, 100);
  });

  test('交易未结算资金不足 is `later` whatever err_code carries it; unifiedorder NOTENOUGH stays rejected', async (t) => {
    const fake = await FakeWechat.start(t);
    const client = fakeClient(t, fake);
    fake.answer = () => ({
      body: signedAnswer({
        result_code: 'FAIL',
        err_code: 'ERROR',
        err_code_des: '交易未结算资金不足，请使用可用余额退款',
      }),
    });
    await rejectsWith(
      client.refund({ outTradeNo: 'T000001', outRefundNo: 'R1', totalFee: 1, refundFee: 1 }),
      'later',
      'ERROR',
    );
    fake.answer = () => ({
      body: signedAnswer({ result_code: 'FAIL', err_code: 'NOTENOUGH', err_code_des: '余额不足' }),
    });
    await rejectsWith(client.unifiedOrder(REQUEST), 'rejected', 'NOTENOUGH');
  });
});

describe('v2 client: failover to the backup domain', () => {
  test('HTTP 5xx and a refused connection: the same request, byte for byte, goes to the backup', async (t) => {
    const primary = await FakeWechat.start(t);
    const backup = await FakeWechat.start(t);
    const events: FailoverEvent[] = [];
    const client = fakeClient(t, primary, {
      backupBaseUrl: backup.url,
      failoverHoldMs: 0,
      onFailover: (e) => events.push(e),
    });
    primary.answer = () => ({ status: 502, body: 'bad gateway' });
    backup.answer = () => ({ body: signedAnswer({ prepay_id: 'wx1', trade_type: 'JSAPI' }) });
    assert.equal((await client.unifiedOrder(REQUEST)).prepayId, 'wx1');
    assert.equal(primary.requests.length, 1);
    assert.deepEqual(backup.requests[0], primary.requests[0], 'same nonce_str, same sign');
    assert.deepEqual(events, [
      { path: '/pay/unifiedorder', from: primary.url, to: backup.url, reason: 'HTTP_502' },
    ]);

    const refused = fakeClient(t, backup, {
      baseUrl: 'http://127.0.0.1:9',
      backupBaseUrl: backup.url,
      onFailover: (e) => events.push(e),
    });
    backup.answer = () => ({ body: signedAnswer({ trade_state: 'NOTPAY', out_trade_no: 'T1' }) });
    assert.equal((await refused.orderQuery({ outTradeNo: 'T000001' })).tradeState, 'NOTPAY');
    assert.equal(events.at(-1)!.reason, 'NETWORK');
  });

  test('an answer that is not a transport failure (a refusal, a 4xx) is not failed over', async (t) => {
    const primary = await FakeWechat.start(t);
    const backup = await FakeWechat.start(t);
    const client = fakeClient(t, primary, { backupBaseUrl: backup.url });
    primary.answer = () => ({
      body: signedAnswer({ result_code: 'FAIL', err_code: 'ORDERPAID', err_code_des: '已支付' }),
    });
    await rejectsWith(client.closeOrder('T000001'), 'rejected', 'ORDERPAID');
    primary.answer = () => ({ status: 404, body: 'not found' });
    await rejectsWith(client.closeOrder('T000001'), 'config', 'HTTP_404');
    assert.equal(backup.requests.length, 0);
  });

  test('after a failover the backup is tried first for failoverHoldMs', async (t) => {
    const primary = await FakeWechat.start(t);
    const backup = await FakeWechat.start(t);
    const client = fakeClient(t, primary, { backupBaseUrl: backup.url });
    const ok = () => ({ body: signedAnswer({ trade_state: 'NOTPAY', out_trade_no: 'T1' }) });
    primary.answer = () => ({ status: 503, body: 'down' });
    backup.answer = ok;
    await client.orderQuery({ outTradeNo: 'T000001' });
    primary.answer = ok;
    await client.orderQuery({ outTradeNo: 'T000001' });
    await client.orderQuery({ outTradeNo: 'T000001' });
    assert.equal(primary.requests.length, 1, 'held on the backup');
    assert.equal(backup.requests.length, 3);
  });

  test('both domains down: the error of the backup, ambiguous', async (t) => {
    const primary = await FakeWechat.start(t);
    const backup = await FakeWechat.start(t);
    const client = fakeClient(t, primary, {
      backupBaseUrl: backup.url,
      retry: { attempts: 0 },
    });
    primary.answer = () => ({ status: 503, body: 'down' });
    backup.answer = () => ({ status: 500, body: 'down too' });
    await rejectsWith(client.orderQuery({ outTradeNo: 'T000001' }), 'ambiguous', 'HTTP_500');
  });

  for (const failure of ['http503', 'reset', 'hang'] as const) {
    test(`against the sandbox, main domain ${failure}: order, query, refund, close and bill go through the backup`, async (t) => {
      const sandbox = await sandboxFor(t, {
        backupPort: 0,
        closeMinAgeMs: 0,
        refundIntervalMs: 0,
        faults: { timeoutHoldMs: 5000 },
      });
      const events: FailoverEvent[] = [];
      const client = clientFor(t, sandbox, {
        backupBaseUrl: sandbox.backupUrl,
        failoverHoldMs: 0,
        // Long enough for a TLS handshake on a loaded machine, so a reset is never taken for a
        // timeout; a hang is held 5 s, past it.
        timeoutMs: failure === 'hang' ? 1000 : 10_000,
        onFailover: (e) => events.push(e),
      });
      await sandbox.setFaults({ primaryDomainFailure: failure });
      const { request, prepayId } = await order(client, sandbox, { totalFee: 100 });
      pay(sandbox, prepayId, request.openid);
      assert.equal(
        (await client.orderQuery({ outTradeNo: request.outTradeNo })).tradeState,
        'SUCCESS',
      );
      await client.refund({
        outTradeNo: request.outTradeNo,
        outRefundNo: outRefundNo(),
        totalFee: 100,
        refundFee: 100,
      });
      const unpaid = await order(client, sandbox);
      await client.closeOrder(unpaid.request.outTradeNo);
      await rejectsWith(client.downloadBill({ billDate: '20990101' }), 'rejected', 'RETURN_FAIL');
      const reason = { http503: 'HTTP_503', reset: 'NETWORK', hang: 'TIMEOUT' }[failure];
      assert.deepEqual(
        events.map((e) => [e.path, e.reason]),
        [
          ['/pay/unifiedorder', reason],
          ['/pay/orderquery', reason],
          ['/secapi/pay/refund', reason],
          ['/pay/unifiedorder', reason],
          ['/pay/closeorder', reason],
          ['/pay/downloadbill', reason],
        ],
      );
      assert.ok(events.every((e) => e.from === sandbox.url && e.to === sandbox.backupUrl));
      assert.equal(sandbox.trade(unpaid.request.outTradeNo)!.tradeState, 'CLOSED');
    });
  }
});

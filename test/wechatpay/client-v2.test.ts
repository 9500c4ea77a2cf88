import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { beijingDate, outRefundNo, outTradeNo, parseBill } from '../../src/wechatpay/index.js';
import { until } from '../sandbox/support.js';
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

describe('v2 client against the sandbox: trades', () => {
  for (const signType of ['MD5', 'HMAC-SHA256'] as const) {
    test(`${signType}: unifiedorder → pay → orderquery SUCCESS`, async (t) => {
      const sandbox = await sandboxFor(t);
      const client = clientFor(t, sandbox, { signType });
      const { request, prepayId } = await order(client, sandbox, { attach: '支付测试 & <x>' });
      assert.match(prepayId, /^wx/);
      const before = await client.orderQuery({ outTradeNo: request.outTradeNo });
      assert.equal(before.tradeState, 'NOTPAY');
      const paid = pay(sandbox, prepayId, request.openid, signType);
      const q = await client.orderQuery({ outTradeNo: request.outTradeNo });
      assert.equal(q.tradeState, 'SUCCESS');
      assert.equal(q.transactionId, paid.transactionId);
      assert.equal(q.totalFee, 100);
      assert.equal(q.openid, request.openid);
      assert.equal(q.attach, '支付测试 & <x>');
      assert.ok(q.timeEnd instanceof Date);
      const byTx = await client.orderQuery({ transactionId: paid.transactionId! });
      assert.equal(byTx.outTradeNo, request.outTradeNo);
    });
  }

  test('unifiedorder again with the same parameters gives the same prepay_id; changed → INVALID_REQUEST', async (t) => {
    const sandbox = await sandboxFor(t);
    const client = clientFor(t, sandbox);
    const { request, prepayId } = await order(client, sandbox);
    assert.equal((await client.unifiedOrder(request)).prepayId, prepayId);
    await rejectsWith(
      client.unifiedOrder({ ...request, totalFee: 101 }),
      'rejected',
      'INVALID_REQUEST',
    );
  });

  test('ORDERPAID, ORDERCLOSED and ORDERNOTEXIST come back typed', async (t) => {
    const sandbox = await sandboxFor(t);
    const client = clientFor(t, sandbox);
    await rejectsWith(
      client.orderQuery({ outTradeNo: outTradeNo('T') }),
      'rejected',
      'ORDERNOTEXIST',
    );
    await rejectsWith(client.closeOrder(outTradeNo('T')), 'rejected', 'ORDERNOTEXIST');

    const open = await order(client, sandbox);
    const early = await rejectsWith(
      client.closeOrder(open.request.outTradeNo),
      'rejected',
      'INVALID_REQUEST',
    );
    assert.match(early.description ?? '', /最短调用时间间隔为5分钟/);
    sandbox.advanceClock(5 * 60_000);
    await client.closeOrder(open.request.outTradeNo);
    assert.equal(
      (await client.orderQuery({ outTradeNo: open.request.outTradeNo })).tradeState,
      'CLOSED',
    );
    const closedAgain = await rejectsWith(
      client.closeOrder(open.request.outTradeNo),
      'rejected',
      'ORDERCLOSED',
    );
    assert.match(closedAgain.message, /closed/);
    await rejectsWith(client.unifiedOrder(open.request), 'rejected', 'ORDERCLOSED');

    const paid = await order(client, sandbox);
    pay(sandbox, paid.prepayId, paid.request.openid);
    const e = await rejectsWith(
      client.closeOrder(paid.request.outTradeNo),
      'rejected',
      'ORDERPAID',
    );
    assert.match(e.message, /already paid; query it/);
    await rejectsWith(client.unifiedOrder(paid.request), 'rejected', 'ORDERPAID');
  });

  test('a wrong key is SIGNERROR (config) with advice; a wrong AppID is config too', async (t) => {
    const sandbox = await sandboxFor(t);
    const wrongKey = clientFor(t, sandbox, { key: 'wrongkey000000000000000000000001' });
    const e = await rejectsWith(
      wrongKey.orderQuery({ outTradeNo: outTradeNo('T') }),
      'config',
      'SIGNERROR',
    );
    assert.match(e.message, /check the APIv2 key and the sign type/);
    assert.deepEqual(e.settings, ['apiKey', 'signType']);
    const wrongApp = clientFor(t, sandbox, { appId: 'wx0000000000000001' });
    const mismatch = await rejectsWith(
      wrongApp.orderQuery({ outTradeNo: outTradeNo('T') }),
      'config',
      'APPID_MCHID_NOT_MATCH',
    );
    assert.deepEqual(mismatch.settings, ['appId', 'mchId']);
  });

  test('bad input is refused before anything is sent', async (t) => {
    const fake = await FakeWechat.start(t);
    const client = fakeClient(t, fake);
    const base = {
      body: 'x',
      outTradeNo: outTradeNo('T'),
      totalFee: 1,
      spbillCreateIp: '1.1.1.1',
      notifyUrl: 'https://a.b/n',
      openid: 'o',
    };
    await rejectsWith(
      client.unifiedOrder({ ...base, totalFee: 1.5 }),
      'rejected',
      'INVALID_ARGUMENT',
    );
    await rejectsWith(
      client.unifiedOrder({ ...base, totalFee: 0 }),
      'rejected',
      'INVALID_ARGUMENT',
    );
    await rejectsWith(
      client.unifiedOrder({ ...base, outTradeNo: 'bad no!' }),
      'rejected',
      'INVALID_ARGUMENT',
    );
    await rejectsWith(
      client.unifiedOrder({ ...base, notifyUrl: 'https://a.b/n?x=1' }),
      'rejected',
      'INVALID_ARGUMENT',
    );
    await rejectsWith(
      client.unifiedOrder({ ...base, body: ' padded ' }),
      'rejected',
      'INVALID_ARGUMENT',
    );
    await rejectsWith(
      client.unifiedOrder({ ...base, openid: undefined }),
      'rejected',
      'INVALID_ARGUMENT',
    );
    assert.equal(fake.requests.length, 0);
  });
});

describe('v2 client against the sandbox: faults', () => {
  test('orderquery SYSTEMERROR every time: retried, then ambiguous', async (t) => {
    const sandbox = await sandboxFor(t);
    const client = clientFor(t, sandbox);
    const { request } = await order(client, sandbox);
    await sandbox.setFaults({ systemErrorRate: { '/pay/orderquery': 1 } });
    const e = await rejectsWith(
      client.orderQuery({ outTradeNo: request.outTradeNo }),
      'ambiguous',
      'SYSTEMERROR',
    );
    assert.equal(e.retryable, true);
  });

  test('unifiedorder that times out is ambiguous, and the same call later finds what WeChat did', async (t) => {
    const sandbox = await sandboxFor(t, { faults: { timeoutHoldMs: 3000 } });
    const client = clientFor(t, sandbox, { timeoutMs: 300 });
    const request = {
      body: 'minipay test',
      outTradeNo: outTradeNo('T'),
      totalFee: 100,
      spbillCreateIp: '127.0.0.1',
      notifyUrl: 'http://127.0.0.1:9/n',
      openid: sandbox.loginCode().openid,
    };
    await sandbox.setFaults({ timeoutRate: { '/pay/unifiedorder': 1 } });
    await rejectsWith(client.unifiedOrder(request), 'ambiguous', 'TIMEOUT');
    // On a loaded machine the client can give up before the sandbox has even read the request.
    await until(() => sandbox.trade(request.outTradeNo) !== undefined);
    await sandbox.setFaults({ timeoutRate: { '/pay/unifiedorder': 0 } });
    const acted = sandbox.trade(request.outTradeNo);
    assert.ok(acted, 'the sandbox created the trade although the answer was lost');
    const again = await client.unifiedOrder(request);
    assert.equal(again.prepayId, acted.prepayId);
  });

  test('a refused connection is ambiguous NETWORK', async (t) => {
    const sandbox = await sandboxFor(t);
    const client = clientFor(t, sandbox, { baseUrl: 'http://127.0.0.1:9', retry: { attempts: 0 } });
    await rejectsWith(client.orderQuery({ outTradeNo: outTradeNo('T') }), 'ambiguous', 'NETWORK');
  });
});

describe('v2 client: answers that are not trusted', () => {
  test('a tampered signature, another merchant, a missing sign → invalid', async (t) => {
    const fake = await FakeWechat.start(t);
    const client = fakeClient(t, fake);
    const good = signedAnswer({ trade_state: 'SUCCESS', out_trade_no: 'T000001', total_fee: 1 });
    fake.answer = () => ({ body: good.replace('<total_fee>1<', '<total_fee>100<') });
    await rejectsWith(client.orderQuery({ outTradeNo: 'T000001' }), 'invalid', 'BAD_SIGNATURE');
    assert.equal(fake.requests.length, 1, 'an invalid answer is not retried');
    fake.answer = () => ({
      body: signedAnswer({ trade_state: 'SUCCESS', out_trade_no: 'T000001' }, 'otherkey'),
    });
    await rejectsWith(client.orderQuery({ outTradeNo: 'T000001' }), 'invalid', 'BAD_SIGNATURE');
    fake.answer = () => ({
      body: signedAnswer({ mch_id: '1900000110', trade_state: 'SUCCESS', out_trade_no: 'T000001' }),
    });
    await rejectsWith(client.orderQuery({ outTradeNo: 'T000001' }), 'invalid', 'WRONG_MERCHANT');
    fake.answer = () => ({
      body: '<xml><return_code>SUCCESS</return_code><result_code>SUCCESS</result_code></xml>',
    });
    await rejectsWith(client.orderQuery({ outTradeNo: 'T000001' }), 'invalid', 'BAD_SIGNATURE');
    fake.answer = () => ({
      body: signedAnswer({ trade_state: 'SUCCESS', out_trade_no: 'T000001', total_fee: '1.00' }),
    });
    await rejectsWith(
      client.orderQuery({ outTradeNo: 'T000001' }),
      'invalid',
      'MALFORMED_RESPONSE',
    );
    fake.answer = () => ({ body: '<!DOCTYPE x><xml/>' });
    await rejectsWith(
      client.orderQuery({ outTradeNo: 'T000001' }),
      'invalid',
      'XML_FORBIDDEN_MARKUP',
    );
    fake.answer = () => ({ body: `<xml><a>${'x'.repeat(70_000)}</a></xml>` });
    await rejectsWith(
      client.orderQuery({ outTradeNo: 'T000001' }),
      'invalid',
      'RESPONSE_TOO_LARGE',
    );
  });

  test('HMAC-SHA256 requests carry sign_type and are verified with HMAC', async (t) => {
    const fake = await FakeWechat.start(t);
    const client = fakeClient(t, fake, { signType: 'HMAC-SHA256' });
    fake.answer = () => ({
      body: signedAnswer(
        { trade_state: 'NOTPAY', out_trade_no: 'T000001' },
        FAKE.key,
        'HMAC-SHA256',
      ),
    });
    assert.equal((await client.orderQuery({ outTradeNo: 'T000001' })).tradeState, 'NOTPAY');
    assert.equal(fake.requests[0]!.sign_type, 'HMAC-SHA256');
    assert.equal(fake.requests[0]!.sign!.length, 64);
    fake.answer = () => ({
      body: signedAnswer({ trade_state: 'NOTPAY', out_trade_no: 'T000001' }),
    });
    await rejectsWith(client.orderQuery({ outTradeNo: 'T000001' }), 'invalid', 'BAD_SIGNATURE');
  });

  test('read-only calls are retried after SYSTEMERROR or HTTP 5xx; unifiedorder and refund never', async (t) => {
    const fake = await FakeWechat.start(t);
    const client = fakeClient(t, fake);
    fake.answer = (_f, n) =>
      n === 1
        ? {
            body: signedAnswer({
              result_code: 'FAIL',
              err_code: 'SYSTEMERROR',
              err_code_des: '系统繁忙',
            }),
          }
        : n === 2
          ? { status: 502, body: 'bad gateway' }
          : { body: signedAnswer({ trade_state: 'NOTPAY', out_trade_no: 'T000001' }) };
    assert.equal((await client.orderQuery({ outTradeNo: 'T000001' })).tradeState, 'NOTPAY');
    assert.equal(fake.requests.length, 3);
    assert.notEqual(fake.requests[0]!.nonce_str, fake.requests[1]!.nonce_str);

    fake.requests.length = 0;
    fake.answer = () => ({ body: signedAnswer({ result_code: 'FAIL', err_code: 'SYSTEMERROR' }) });
    await rejectsWith(
      client.unifiedOrder({
        body: 'x',
        outTradeNo: 'T000002',
        totalFee: 1,
        spbillCreateIp: '1.1.1.1',
        notifyUrl: 'https://a.b/n',
        openid: 'o',
      }),
      'ambiguous',
      'SYSTEMERROR',
    );
    assert.equal(fake.requests.length, 1);
    await rejectsWith(
      client.refund({ outTradeNo: 'T000002', outRefundNo: 'R1', totalFee: 1, refundFee: 1 }),
      'ambiguous',
      'SYSTEMERROR',
    );
    assert.equal(fake.requests.length, 2);
  });

  test('err_codes the sandbox never produces map to their kinds: NOTENOUGH, OUT_TRADE_NO_USED, NOAUTH', async (t) => {
    const fake = await FakeWechat.start(t);
    const client = fakeClient(t, fake);
    const req = {
      body: 'x',
      outTradeNo: 'T000003',
      totalFee: 1,
      spbillCreateIp: '1.1.1.1',
      notifyUrl: 'https://a.b/n',
      openid: 'o',
    };
    for (const [code, kind] of [
      ['NOTENOUGH', 'rejected'],
      ['OUT_TRADE_NO_USED', 'rejected'],
      ['NOAUTH', 'config'],
      ['SOMETHING_NEW', 'rejected'],
    ] as const) {
      fake.answer = () => ({
        body: signedAnswer({ result_code: 'FAIL', err_code: code, err_code_des: '…' }),
      });
      await rejectsWith(client.unifiedOrder(req), kind, code);
    }
    fake.answer = () => ({
      body: '<xml><return_code>FAIL</return_code><return_msg>签名错误</return_msg></xml>',
    });
    await rejectsWith(client.unifiedOrder(req), 'config', 'SIGNERROR');
    fake.answer = () => ({
      body: '<xml><return_code>FAIL</return_code><return_msg>invalid total_fee</return_msg></xml>',
    });
    await rejectsWith(client.unifiedOrder(req), 'rejected', 'RETURN_FAIL');
  });
});

describe('v2 client against the sandbox: refunds and bills', () => {
  test('refund → refundquery PROCESSING → SUCCESS; over-refund and unknown refunds are typed', async (t) => {
    const sandbox = await sandboxFor(t, { faults: { refundDelayMs: 60_000 }, timeScale: 1 });
    const client = clientFor(t, sandbox);
    const { request, prepayId } = await order(client, sandbox);
    const paid = pay(sandbox, prepayId, request.openid);
    const no = outRefundNo();
    const r = await client.refund({
      outTradeNo: request.outTradeNo,
      outRefundNo: no,
      totalFee: 100,
      refundFee: 30,
      refundDesc: '退货',
    });
    assert.equal(r.outRefundNo, no);
    assert.equal(r.refundFee, 30);
    assert.equal(r.transactionId, paid.transactionId);
    const q1 = await client.refundQuery({ outRefundNo: no });
    assert.equal(q1.refunds[0]!.status, 'PROCESSING');
    sandbox.advanceClock(61_000);
    const q2 = await client.refundQuery({ outRefundNo: no });
    assert.equal(q2.refunds[0]!.status, 'SUCCESS');
    assert.ok(q2.refunds[0]!.successTime instanceof Date);
    assert.equal(q2.totalFee, 100);
    // The same out_refund_no again is the same refund.
    const again = await client.refund({
      outTradeNo: request.outTradeNo,
      outRefundNo: no,
      totalFee: 100,
      refundFee: 30,
    });
    assert.equal(again.refundId, r.refundId);
    await rejectsWith(
      client.refund({
        outTradeNo: request.outTradeNo,
        outRefundNo: outRefundNo(),
        totalFee: 100,
        refundFee: 71,
      }),
      'rejected',
      'INVALID_REQUEST',
    );
    await rejectsWith(
      client.refundQuery({ outRefundNo: outRefundNo() }),
      'rejected',
      'REFUNDNOTEXIST',
    );
    await rejectsWith(
      client.refund({
        outTradeNo: outTradeNo('T'),
        outRefundNo: outRefundNo(),
        totalFee: 100,
        refundFee: 1,
      }),
      'rejected',
      'ORDERNOTEXIST',
    );
  });

  test('downloadbill after a paid and a refunded trade: text and gzip round trip', async (t) => {
    const sandbox = await sandboxFor(t, { timeScale: 1000 });
    const client = clientFor(t, sandbox);
    const a = await order(client, sandbox, { totalFee: 600, body: '商品, A' });
    const paidA = pay(sandbox, a.prepayId, a.request.openid);
    const b = await order(client, sandbox, { totalFee: 250 });
    pay(sandbox, b.prepayId, b.request.openid);
    const refundNo = outRefundNo();
    await client.refund({
      outTradeNo: a.request.outTradeNo,
      outRefundNo: refundNo,
      totalFee: 600,
      refundFee: 100,
    });
    const deadline = Date.now() + 5000;
    while ((await client.refundQuery({ outRefundNo: refundNo })).refunds[0]!.status !== 'SUCCESS') {
      assert.ok(Date.now() < deadline, 'refund settles');
      await new Promise((r) => setTimeout(r, 20));
    }
    const today = beijingDate(new Date());
    const notReady = await rejectsWith(
      client.downloadBill({ billDate: today }),
      'later',
      'BILL_NOT_READY',
    );
    assert.equal(notReady.description, 'Bill Creating');
    sandbox.advanceClock(34 * 3600_000); // today's bill is out at 10:00 tomorrow
    const text = await client.downloadBill({ billDate: today, billType: 'ALL' });
    assert.ok(text);
    const gz = await client.downloadBill({ billDate: today, billType: 'ALL', gzip: true });
    assert.equal(gz, text);
    const bill = parseBill(text);
    assert.equal(bill.type, 'ALL');
    assert.equal(bill.rows.length, 3);
    const rowA = bill.rows.find(
      (r) => r.outTradeNo === a.request.outTradeNo && r.tradeState === 'SUCCESS',
    )!;
    assert.equal(rowA.transactionId, paidA.transactionId);
    assert.equal(rowA.settlementFen, 600);
    assert.equal(rowA.feeMilliFen, 4000);
    assert.equal(rowA.productName, '商品, A');
    assert.equal(rowA.refundId, undefined);
    const refundRow = bill.rows.find((r) => r.tradeState === 'REFUND')!;
    assert.equal(refundRow.outRefundNo, refundNo);
    assert.equal(refundRow.refundFen, 100);
    assert.equal(refundRow.feeMilliFen, -1000);
    assert.deepEqual(bill.summary, {
      tradeCount: 3,
      settlementFen: 850,
      refundFen: 100,
      couponRefundFen: 0,
      feeMilliFen: 4000 + 2000 - 1000,
      orderFen: 850,
      requestedRefundFen: 100,
    });
    const refunds = parseBill(
      (await client.downloadBill({ billDate: today, billType: 'REFUND' }))!,
    );
    assert.equal(refunds.type, 'REFUND');
    assert.equal(refunds.rows.length, 1);
    assert.ok(refunds.rows[0]!.refundSucceededAt instanceof Date);
    const yesterday = beijingDate(new Date(Date.now() - 86_400_000));
    assert.equal(await client.downloadBill({ billDate: yesterday }), null);
    await rejectsWith(client.downloadBill({ billDate: '20991301' }), 'rejected', 'RETURN_FAIL');
    const wrongKey = clientFor(t, sandbox, { key: 'wrongkey000000000000000000000001' });
    await rejectsWith(wrongKey.downloadBill({ billDate: today }), 'config', 'SIGNERROR');
    await sandbox.setFaults({ systemErrorRate: { '/pay/downloadbill': 1 } });
    await rejectsWith(client.downloadBill({ billDate: today }), 'ambiguous', 'SYSTEMERROR');
  });
});

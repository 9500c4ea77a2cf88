import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { describe, type TestContext, test } from 'node:test';
import {
  GatewayError,
  type PaymentNotice,
  type RefundStatus,
} from '../../../src/payments/gateway/gateway.js';
import { WechatPayV2Gateway } from '../../../src/payments/gateway/wechatpay-v2-gateway.js';
import type { Sandbox } from '../../../src/sandbox/index.js';
import { beijingDate, decodeXml, outRefundNo, outTradeNo } from '../../../src/wechatpay/index.js';
import { sandboxFor, until } from '../../sandbox/support.js';
import { listenUntilEnd } from '../../support/listen.js';
import { FAKE, FakeWechat, signedAnswer } from '../../wechatpay/support.js';

function gatewayFor(t: TestContext, sandbox: Sandbox, signType: 'MD5' | 'HMAC-SHA256' = 'MD5') {
  const c = sandbox.credentials;
  const gateway = new WechatPayV2Gateway({
    appId: c.appId,
    mchId: c.mchId,
    mchKey: c.mchKey,
    signType,
    payBaseUrl: sandbox.url,
    timeoutMs: 5000,
    retry: { attempts: 1, delayMs: 10 },
  });
  t.after(() => gateway.close());
  return gateway;
}

/** A merchant server whose notify endpoints use the gateway, as the real server does. */
async function merchant(t: TestContext, gateway: WechatPayV2Gateway) {
  const payments: PaymentNotice[] = [];
  const refunds: RefundStatus[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const request = { headers: req.headers, body: Buffer.concat(chunks) };
    let reply = gateway.notifyReply('ok');
    try {
      if (req.url === '/pay') payments.push(await gateway.readPaymentNotify(request));
      else refunds.push(await gateway.readRefundNotify(request));
    } catch {
      reply = gateway.notifyReply('reject', 'not verified');
    }
    res.writeHead(reply.statusCode, { 'content-type': reply.contentType });
    res.end(reply.body);
  });
  const base = await listenUntilEnd(t, server);
  return { payments, refunds, payUrl: `${base}/pay`, refundUrl: `${base}/refund` };
}

describe('WechatPayV2Gateway against the sandbox', () => {
  for (const signType of ['MD5', 'HMAC-SHA256'] as const) {
    test(`${signType}: prepay → paymentParams → pay → notify → query → refund → refund notify → bill`, async (t) => {
      const sandbox = await sandboxFor(t, { timeScale: 1000 });
      const gateway = gatewayFor(t, sandbox, signType);
      const m = await merchant(t, gateway);
      const openid = sandbox.loginCode().openid;
      const no = outTradeNo('T');
      const before = Date.now();
      const prepay = await gateway.prepay({
        outTradeNo: no,
        description: 'minipay 测试',
        totalFen: 500,
        payerOpenid: openid,
        payerIp: '127.0.0.1',
        notifyUrl: m.payUrl,
        attach: 'order-1',
        expiresAt: new Date(Date.now() + 30 * 60_000),
      });
      const ttl = prepay.prepayExpiresAt.getTime() - before;
      assert.ok(ttl >= 2 * 3600_000 && ttl < 2 * 3600_000 + 5000);
      const params = gateway.paymentParams(prepay.prepayId);
      assert.equal(params.package, `prepay_id=${prepay.prepayId}`);
      assert.equal(params.signType, signType);
      assert.equal((await gateway.queryTrade(no)).state, 'NOTPAY');
      const paid = sandbox.pay({ ...params, openid });
      await until(() => m.payments.length === 1);
      const notice = m.payments[0]!;
      assert.deepEqual(
        [
          notice.outTradeNo,
          notice.succeeded,
          notice.totalFen,
          notice.noticeId,
          notice.attach,
          notice.payerOpenid,
        ],
        [no, true, 500, paid.transactionId, 'order-1', openid],
      );
      await until(() => sandbox.notifications()[0]?.status === 'delivered');
      const status = await gateway.queryTrade(no);
      assert.equal(status.state, 'SUCCESS');
      assert.equal(status.transactionId, paid.transactionId);
      assert.equal(status.totalFen, 500);
      await assert.rejects(
        gateway.closeTrade(no),
        (e: unknown) =>
          e instanceof GatewayError && e.kind === 'rejected' && e.code === 'ORDERPAID',
      );

      const refundNo = outRefundNo();
      const accepted = await gateway.refund({
        outTradeNo: no,
        outRefundNo: refundNo,
        totalFen: 500,
        refundFen: 200,
        reason: '退货',
        notifyUrl: m.refundUrl,
      });
      assert.equal(accepted.refundFen, 200);
      await until(() => m.refunds.length === 1);
      assert.deepEqual(
        [
          m.refunds[0]!.outRefundNo,
          m.refunds[0]!.state,
          m.refunds[0]!.refundFen,
          m.refunds[0]!.source,
        ],
        [refundNo, 'SUCCESS', 200, 'API'],
      );
      const rq = await gateway.queryRefund(refundNo);
      assert.equal(rq.state, 'SUCCESS');
      assert.equal(rq.refundId, accepted.refundId);

      const today = beijingDate(new Date());
      await assert.rejects(
        gateway.openTradeBill(today),
        (e: unknown) =>
          e instanceof GatewayError && e.kind === 'later' && e.code === 'BILL_NOT_READY',
        'no bill for today: not ready yet, not a refusal',
      );
      sandbox.advanceClock(34 * 3600_000); // 10:00 tomorrow at the latest
      const bill = await gateway.openTradeBill(today);
      assert.ok(bill);
      const rows = [];
      for await (const batch of bill) rows.push(...batch);
      assert.equal(rows.length, 2);
      assert.equal(bill.summary?.settlementFen, 500);
      assert.equal(bill.summary?.refundFen, 200);
      assert.match(bill.sha256 ?? '', /^[0-9a-f]{64}$/);
      assert.equal(
        await gateway.openTradeBill(beijingDate(new Date(Date.now() - 86_400_000))),
        null,
      );
      assert.equal(gateway.openFundFlowBill, undefined, 'no certificate, no fund-flow bill');
    });
  }

  test('queryTrade NOT_FOUND; closeTrade twice is fine; errors are GatewayErrors', async (t) => {
    const sandbox = await sandboxFor(t);
    const gateway = gatewayFor(t, sandbox);
    assert.equal((await gateway.queryTrade(outTradeNo('T'))).state, 'NOT_FOUND');
    const no = outTradeNo('T');
    await gateway.prepay({
      outTradeNo: no,
      description: 'x',
      totalFen: 1,
      payerOpenid: sandbox.loginCode().openid,
      payerIp: '127.0.0.1',
      notifyUrl: 'http://127.0.0.1:9/n',
    });
    sandbox.advanceClock(5 * 60_000);
    await gateway.closeTrade(no);
    await gateway.closeTrade(no);
    assert.equal((await gateway.queryTrade(no)).state, 'CLOSED');
    await sandbox.setFaults({ systemErrorRate: { '/pay/orderquery': 1 } });
    await assert.rejects(
      gateway.queryTrade(no),
      (e: unknown) => e instanceof GatewayError && e.kind === 'ambiguous' && e.retryable,
    );
    await assert.rejects(
      gateway.prepay({
        outTradeNo: 'bad!',
        description: 'x',
        totalFen: 1,
        payerOpenid: 'o',
        payerIp: '127.0.0.1',
        notifyUrl: 'http://127.0.0.1:9/n',
      }),
      (e: unknown) =>
        e instanceof GatewayError && e.kind === 'rejected' && e.code === 'INVALID_ARGUMENT',
    );
  });

  test('a forged notify is invalid; replies are WeChat XML (retry and reject are both FAIL)', async (t) => {
    const sandbox = await sandboxFor(t);
    const gateway = gatewayFor(t, sandbox);
    const body = Buffer.from(
      '<xml><return_code>SUCCESS</return_code><out_trade_no>T1</out_trade_no><sign>00</sign></xml>',
    );
    await assert.rejects(
      gateway.readPaymentNotify({ headers: {}, body }),
      (e: unknown) => e instanceof GatewayError && e.kind === 'invalid',
    );
    await assert.rejects(
      gateway.readRefundNotify({ headers: {}, body }),
      (e: unknown) => e instanceof GatewayError && e.kind === 'invalid',
    );
    const ok = gateway.notifyReply('ok');
    assert.equal(ok.statusCode, 200);
    assert.equal(decodeXml(ok.body).return_code, 'SUCCESS');
    assert.equal(decodeXml(gateway.notifyReply('retry').body).return_code, 'FAIL');
    assert.equal(decodeXml(gateway.notifyReply('reject', 'bad').body).return_msg, 'bad');
  });

  test('every trade_state of orderquery is known (ACCEPT included); an unknown one is not trusted', async (t) => {
    const fake = await FakeWechat.start(t);
    const gateway = new WechatPayV2Gateway({
      appId: FAKE.appId,
      mchId: FAKE.mchId,
      mchKey: FAKE.key,
      signType: 'MD5',
      payBaseUrl: fake.url,
      retry: { attempts: 0 },
    });
    t.after(() => gateway.close());
    let state = '';
    fake.answer = () => ({ body: signedAnswer({ trade_state: state, out_trade_no: 'T000001' }) });
    for (state of ['NOTPAY', 'CLOSED', 'REVOKED', 'USERPAYING', 'PAYERROR', 'ACCEPT']) {
      assert.equal((await gateway.queryTrade('T000001')).state, state);
    }
    state = 'WHATEVER';
    await assert.rejects(
      gateway.queryTrade('T000001'),
      (e: unknown) => e instanceof GatewayError && e.code === 'UNKNOWN_TRADE_STATE',
    );
  });
});

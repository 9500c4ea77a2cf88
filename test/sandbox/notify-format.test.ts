import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  notifyReplyXml,
  outRefundNo,
  readPaymentNotify,
  readRefundNotify,
  WechatPayError,
} from '../../src/wechatpay/index.js';
import { clientFor, order, pay } from '../wechatpay/support.js';
import { NotifyReceiver, sandboxFor, until } from './support.js';

describe('the sandbox notifies with the protocol layer', () => {
  for (const signType of ['MD5', 'HMAC-SHA256'] as const) {
    test(`${signType}: a payment notify reaches a local receiver and verifies with readPaymentNotify`, async (t) => {
      const receiver = await NotifyReceiver.start(t);
      const sandbox = await sandboxFor(t, { timeScale: 1000 });
      const c = sandbox.credentials;
      const merchant = { key: c.mchKey, signType, appId: c.appId, mchId: c.mchId };
      receiver.reply = (r) => {
        try {
          readPaymentNotify(r.body, merchant);
          return { body: notifyReplyXml(true) };
        } catch (err) {
          return { body: notifyReplyXml(false, (err as Error).message) };
        }
      };
      const client = clientFor(t, sandbox, { signType });
      const { request, prepayId } = await order(client, sandbox, {
        notifyUrl: receiver.url,
        totalFee: 321,
        attach: 'a&b',
      });
      const paid = pay(sandbox, prepayId, request.openid, signType);
      await until(() => sandbox.notifications()[0]?.status === 'delivered');
      const n = readPaymentNotify(receiver.received[0]!.body, merchant);
      assert.equal(n.outTradeNo, request.outTradeNo);
      assert.equal(n.transactionId, paid.transactionId);
      assert.equal(n.totalFee, 321);
      assert.equal(n.attach, 'a&b');
      assert.equal(n.openid, request.openid);
      assert.equal(sandbox.notifications()[0]!.attemptCount, 1);
      // The other sign type does not verify it.
      const other = signType === 'MD5' ? 'HMAC-SHA256' : 'MD5';
      assert.throws(
        () => readPaymentNotify(receiver.received[0]!.body, { ...merchant, signType: other }),
        (e: unknown) => e instanceof WechatPayError && e.code === 'BAD_SIGNATURE',
      );
    });
  }

  test('a plain-text SUCCESS reply is not accepted: WeChat retries', async (t) => {
    const receiver = await NotifyReceiver.start(t);
    const sandbox = await sandboxFor(t, { timeScale: 100_000 });
    receiver.reply = (_r, n) => ({ body: n < 3 ? 'SUCCESS' : notifyReplyXml(true) });
    const client = clientFor(t, sandbox);
    const { request, prepayId } = await order(client, sandbox, { notifyUrl: receiver.url });
    pay(sandbox, prepayId, request.openid);
    await until(() => sandbox.notifications()[0]?.status === 'delivered');
    assert.deepEqual(
      sandbox.notifications()[0]!.attempts.map((a) => a.outcome),
      ['fail', 'fail', 'success'],
    );
  });

  test('a refund notify decrypts with readRefundNotify', async (t) => {
    const receiver = await NotifyReceiver.start(t);
    const sandbox = await sandboxFor(t, { timeScale: 1000 });
    const c = sandbox.credentials;
    const client = clientFor(t, sandbox);
    const { request, prepayId } = await order(client, sandbox, { notifyUrl: receiver.url });
    const paid = pay(sandbox, prepayId, request.openid);
    await until(() => receiver.received.length === 1);
    const no = outRefundNo();
    await client.refund({
      outTradeNo: request.outTradeNo,
      outRefundNo: no,
      totalFee: 100,
      refundFee: 40,
      notifyUrl: receiver.url,
    });
    await until(() => receiver.received.length === 2);
    const body = receiver.received[1]!.body;
    assert.doesNotMatch(body, new RegExp(no), 'the refund details travel encrypted');
    const r = readRefundNotify(body, { mchKey: c.mchKey, appId: c.appId, mchId: c.mchId });
    assert.equal(r.outRefundNo, no);
    assert.equal(r.outTradeNo, request.outTradeNo);
    assert.equal(r.transactionId, paid.transactionId);
    assert.equal(r.refundFee, 40);
    assert.equal(r.totalFee, 100);
    assert.equal(r.refundStatus, 'SUCCESS');
    assert.equal(r.refundRequestSource, 'API');
    assert.ok(r.successTime instanceof Date);
    assert.throws(() =>
      readRefundNotify(body, { mchKey: 'x'.repeat(32), appId: c.appId, mchId: c.mchId }),
    );
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { request } from 'undici';
import { ANSWER_SIGNATURE_FAULTS } from '../../src/sandbox/faults.js';
import { WechatPayError } from '../../src/wechatpay/errors.js';
import { beijingDate, outRefundNo, outTradeNo, parseBill } from '../../src/wechatpay/index.js';
import {
  buildAuthorization,
  buildRequestPaymentV3,
  closeOrder,
  createRefund,
  createRsaSigner,
  generateMerchantIdentity,
  loadApiV3Key,
  notificationReply,
  prepayJsapi,
  publicKeysVerifier,
  publicKeyVerifier,
  queryByOutTradeNo,
  queryByTransactionId,
  queryRefund,
  readPaymentNotification,
  readRefundNotification,
  type Signer,
  tradeBill,
  WechatPayV3Client,
  WechatPayV3Error,
} from '../../src/wechatpay/v3/index.js';
import { api, NotifyReceiver, prepay as prepayV2, sandboxFor, until } from './support.js';
import { type V3Merchant, v3MerchantFor } from './v3-support.js';

const NOTIFY = 'http://127.0.0.1:9/wechatpay/v3/notify';

async function newOrder(
  m: V3Merchant,
  notifyUrl = NOTIFY,
  extra: { total?: number; outTradeNo?: string } = {},
) {
  const { code, openid } = m.sandbox.loginCode();
  void code;
  const no = extra.outTradeNo ?? outTradeNo('V3');
  const { prepayId } = await prepayJsapi(m.client, {
    appId: m.sandbox.credentials.appId,
    description: 'v3 sandbox test',
    outTradeNo: no,
    notifyUrl,
    total: extra.total ?? 100,
    payerOpenid: openid,
  });
  return { outTradeNo: no, prepayId, openid };
}

async function pay(m: V3Merchant, order: { prepayId: string; openid: string }, signer?: Signer) {
  const params = buildRequestPaymentV3({
    appId: m.sandbox.credentials.appId,
    prepayId: order.prepayId,
    signer: signer ?? m.signer,
  });
  return api(m.sandbox, 'POST', '/sandbox/v1/pay', { ...params, openid: order.openid });
}

async function rejected(promise: Promise<unknown>): Promise<WechatPayV3Error> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof WechatPayV3Error, String(err));
    return err;
  }
  assert.fail('expected a refusal');
}

describe('sandbox APIv3: trades in public_key mode', () => {
  test('prepay, query by out_trade_no and id, pay with RSA paySign, notification verified and decrypted', async (t) => {
    const receiver = await NotifyReceiver.start(t);
    const m = await v3MerchantFor(t);
    const apiV3Key = loadApiV3Key(m.sandbox.credentials.apiV3Key);
    receiver.reply = () => ({ status: 204 });
    const order = await newOrder(m, receiver.url);
    assert.match(order.prepayId, /^wx[0-9]{14}[0-9a-f]{20}$/);
    const before = await queryByOutTradeNo(m.client, order.outTradeNo);
    assert.equal(before.tradeState, 'NOTPAY');
    assert.equal(before.amount?.total, 100);
    const paid = await pay(m, order);
    assert.equal(paid.status, 200, JSON.stringify(paid.body));
    await receiver.waitFor(1);
    const got = receiver.received[0]!;
    assert.equal(got.headers['content-type'], 'application/json');
    const n = await readPaymentNotification(
      { headers: got.headers, body: got.body },
      { verifier: m.verifier, apiV3Key, mchId: m.sandbox.credentials.mchId },
    );
    assert.equal(n.transaction.outTradeNo, order.outTradeNo);
    assert.equal(n.transaction.amount?.total, 100);
    assert.equal(n.verification.mode, 'public_key');
    await until(() => m.sandbox.notifications()[0]?.status === 'delivered');
    assert.equal(m.sandbox.notifications()[0]!.format, 'v3');
    const byId = await queryByTransactionId(m.client, paid.body.transactionId as string);
    assert.equal(byId.tradeState, 'SUCCESS');
    assert.equal(byId.payerOpenid, order.openid);
    assert.ok(m.serials.every((s) => s === m.sandbox.v3Platform().publicKeyId));
  });

  test('re-entry: the same body gives the same prepay_id, another body INVALID_REQUEST', async (t) => {
    const m = await v3MerchantFor(t);
    const order = await newOrder(m);
    const again = await prepayJsapi(m.client, {
      appId: m.sandbox.credentials.appId,
      description: 'v3 sandbox test',
      outTradeNo: order.outTradeNo,
      notifyUrl: NOTIFY,
      total: 100,
      payerOpenid: order.openid,
    });
    assert.equal(again.prepayId, order.prepayId);
    const other = await rejected(
      prepayJsapi(m.client, {
        appId: m.sandbox.credentials.appId,
        description: 'v3 sandbox test',
        outTradeNo: order.outTradeNo,
        notifyUrl: NOTIFY,
        total: 101,
        payerOpenid: order.openid,
      }),
    );
    assert.equal(other.code, 'INVALID_REQUEST');
    assert.equal(other.status, 400);
    assert.equal(other.verified, true);
  });

  test('description over 127 bytes and attach over 128 bytes are PARAM_ERROR, nothing made', async (t) => {
    const m = await v3MerchantFor(t);
    const body = (fields: Record<string, unknown>) =>
      JSON.stringify({
        appid: m.sandbox.credentials.appId,
        mchid: m.sandbox.credentials.mchId,
        description: 'x',
        out_trade_no: 'V3BYTES0001',
        notify_url: NOTIFY,
        amount: { total: 1, currency: 'CNY' },
        payer: { openid: 'oUser' },
        ...fields,
      });
    for (const fields of [{ description: '商'.repeat(43) }, { attach: 'a'.repeat(129) }]) {
      const r = await signedCall(m, 'POST', '/v3/pay/transactions/jsapi', body(fields));
      assert.equal(r.status, 400);
      assert.equal(r.json.code, 'PARAM_ERROR');
      assert.match(String(r.json.message), /字节数 1(29|28)|字节数 129/);
    }
    assert.equal(m.sandbox.trade('V3BYTES0001'), undefined);
  });

  test('close: 204 and CLOSED; again ORDER_CLOSED; a paid trade ORDERPAID; unknown ORDER_NOT_EXIST', async (t) => {
    const m = await v3MerchantFor(t);
    const order = await newOrder(m);
    await closeOrder(m.client, order.outTradeNo);
    assert.equal((await queryByOutTradeNo(m.client, order.outTradeNo)).tradeState, 'CLOSED');
    assert.equal((await rejected(closeOrder(m.client, order.outTradeNo))).code, 'ORDER_CLOSED');
    const paid = await newOrder(m);
    assert.equal((await pay(m, paid)).status, 200);
    assert.equal((await rejected(closeOrder(m.client, paid.outTradeNo))).code, 'ORDERPAID');
    const unknown = await rejected(closeOrder(m.client, 'V3NOSUCHORDER'));
    assert.equal(unknown.code, 'ORDER_NOT_EXIST');
    assert.equal(unknown.status, 404);
  });

  test('close within 5 minutes of the order is INVALID_REQUEST, as v2', async (t) => {
    const m = await v3MerchantFor(t, { closeMinAgeMs: 300_000 });
    const order = await newOrder(m);
    const err = await rejected(closeOrder(m.client, order.outTradeNo));
    assert.equal(err.code, 'INVALID_REQUEST');
    assert.match(err.message, /最短调用时间间隔为5分钟/);
  });

  test('a v3 trade cannot be paid with v2 parameters, nor with a paySign of another key', async (t) => {
    const m = await v3MerchantFor(t);
    const order = await newOrder(m);
    const other = await generateMerchantIdentity(m.sandbox.credentials.mchId);
    const forged = await pay(m, order, other.signer);
    assert.equal(forged.status, 400);
    assert.equal((forged.body.error as { code: string }).code, 'PAYSIGN_INVALID');
    assert.equal(m.sandbox.trade(order.outTradeNo)!.tradeState, 'NOTPAY');
    const v2 = await prepayV2(m.sandbox, NOTIFY);
    const rsaOnV2 = await pay(m, { prepayId: v2.prepayId, openid: v2.openid });
    assert.equal((rsaOnV2.body.error as { code: string }).code, 'SIGN_TYPE_MISMATCH');
  });
});

describe('sandbox APIv3: refunds', () => {
  test('create (PROCESSING), query, settle, REFUND.SUCCESS notification verified', async (t) => {
    const receiver = await NotifyReceiver.start(t);
    receiver.reply = () => ({ status: 200 });
    const m = await v3MerchantFor(t, { faults: { refundDelayMs: 3_600_000 } });
    const order = await newOrder(m, receiver.url);
    assert.equal((await pay(m, order)).status, 200);
    await receiver.waitFor(1);
    const no = outRefundNo('V3R');
    const refund = await createRefund(m.client, {
      outTradeNo: order.outTradeNo,
      outRefundNo: no,
      refund: 40,
      total: 100,
      notifyUrl: receiver.url,
    });
    assert.equal(refund.status, 'PROCESSING');
    assert.equal(refund.amount.refund, 40);
    const same = await createRefund(m.client, {
      outTradeNo: order.outTradeNo,
      outRefundNo: no,
      refund: 40,
      total: 100,
    });
    assert.equal(same.refundId, refund.refundId);
    const settle = await api(m.sandbox, 'POST', `/sandbox/v1/refunds/${no}/settle`, {});
    assert.equal(settle.status, 200);
    assert.equal((await queryRefund(m.client, no)).status, 'SUCCESS');
    await receiver.waitFor(2);
    const got = receiver.received[1]!;
    const n = await readRefundNotification(
      { headers: got.headers, body: got.body },
      {
        verifier: m.verifier,
        apiV3Key: loadApiV3Key(m.sandbox.credentials.apiV3Key),
        mchId: m.sandbox.credentials.mchId,
      },
    );
    assert.equal(n.eventType, 'REFUND.SUCCESS');
    assert.equal(n.refund.outRefundNo, no);
    assert.equal(n.refund.amount.refund, 40);
  });

  test('a refund made in the merchant portal for a v3 trade is notified in v3 (REFUND.CLOSED)', async (t) => {
    const receiver = await NotifyReceiver.start(t);
    receiver.reply = () => ({ status: 204 });
    const m = await v3MerchantFor(t, { refundNotifyUrl: receiver.url });
    const order = await newOrder(m, receiver.url);
    assert.equal((await pay(m, order)).status, 200);
    await receiver.waitFor(1);
    const made = await api(m.sandbox, 'POST', `/sandbox/v1/trades/${order.outTradeNo}/refunds`, {
      refundFen: 30,
      outcome: 'REFUNDCLOSE',
      delayMs: 0,
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    await receiver.waitFor(2);
    const got = receiver.received[1]!;
    const n = await readRefundNotification(
      { headers: got.headers, body: got.body },
      {
        verifier: m.verifier,
        apiV3Key: loadApiV3Key(m.sandbox.credentials.apiV3Key),
        mchId: m.sandbox.credentials.mchId,
      },
    );
    assert.equal(n.eventType, 'REFUND.CLOSED');
    assert.equal(n.refund.refundStatus, 'CLOSED');
    assert.equal(n.refund.amount.refund, 30);
  });

  test('the shared rules answer v3 codes: more than left, unknown trade, unknown refund', async (t) => {
    const m = await v3MerchantFor(t);
    const order = await newOrder(m);
    assert.equal((await pay(m, order)).status, 200);
    const part = { outTradeNo: order.outTradeNo, refund: 60, total: 100 };
    await createRefund(m.client, { ...part, outRefundNo: 'V3R-FIRST' });
    const tooMuch = await rejected(createRefund(m.client, { ...part, outRefundNo: 'V3R-MUCH' }));
    assert.equal(tooMuch.code, 'INVALID_REQUEST');
    const unknown = await rejected(
      createRefund(m.client, {
        outTradeNo: 'V3NOTRADE',
        outRefundNo: 'V3R-X',
        refund: 1,
        total: 1,
      }),
    );
    assert.equal(unknown.code, 'RESOURCE_NOT_EXISTS');
    assert.equal((await rejected(queryRefund(m.client, 'V3R-NONE'))).code, 'RESOURCE_NOT_EXISTS');
  });

  test('errCodes NOT_ENOUGH at the refund path: a later refusal, nothing recorded', async (t) => {
    const m = await v3MerchantFor(t, {
      faults: { errCodes: { '/v3/refund/domestic/refunds': { NOT_ENOUGH: 1 } } },
    });
    const order = await newOrder(m);
    assert.equal((await pay(m, order)).status, 200);
    const req = { outTradeNo: order.outTradeNo, outRefundNo: 'V3R-NE', refund: 1, total: 100 };
    const err = await rejected(createRefund(m.client, req));
    assert.equal(err.code, 'NOT_ENOUGH');
    assert.equal(err.kind, 'later');
    assert.equal(m.sandbox.refund('V3R-NE'), undefined);
    assert.equal((await createRefund(m.client, req)).status, 'PROCESSING');
  });
});

describe('sandbox APIv3: trade bills', () => {
  test('tradebill: a signed hash and URL, the file by a signed GET, its SHA1 checked; none, not yet', async (t) => {
    const m = await v3MerchantFor(t);
    const order = await newOrder(m, NOTIFY, { total: 321 });
    assert.equal((await pay(m, order)).status, 200);
    const day = dashed(beijingDate(new Date(m.sandbox.trade(order.outTradeNo)!.paidAt!)));
    const notYet = await rejected(tradeBill(m.client, { billDate: day }));
    assert.equal(notYet.code, 'BILL_NOT_READY');
    assert.equal(notYet.kind, 'later');
    m.sandbox.advanceClock(2 * 86_400_000);
    for (const gzip of [false, true]) {
      const text = await tradeBill(m.client, { billDate: day, gzip });
      const bill = parseBill(text!);
      assert.equal(bill.rows.length, 1);
      assert.equal(bill.rows[0]!.outTradeNo, order.outTradeNo);
      assert.equal(bill.rows[0]!.settlementFen, 321);
    }
    const before = dashed(beijingDate(new Date(Date.parse(`${day}T12:00:00+08:00`) - 86_400_000)));
    assert.equal(await tradeBill(m.client, { billDate: before }), null);
    const bad = await signedCall(m, 'GET', '/v3/billdownload/file?token=nonsense', '');
    assert.equal(bad.status, 400);
    assert.equal(bad.json.code, 'PARAM_ERROR');
  });
});

describe('sandbox APIv3: the merchant request signature is checked', () => {
  test('no Authorization, another key, a stale timestamp, another serial: 401 SIGN_ERROR, nothing made', async (t) => {
    const m = await v3MerchantFor(t);
    const other = await generateMerchantIdentity(m.sandbox.credentials.mchId);
    const body = JSON.stringify({
      appid: m.sandbox.credentials.appId,
      mchid: m.sandbox.credentials.mchId,
      description: 'x',
      out_trade_no: 'V3SIGN0001',
      notify_url: NOTIFY,
      amount: { total: 1, currency: 'CNY' },
      payer: { openid: 'oUser' },
    });
    const path = '/v3/pay/transactions/jsapi';
    const demo = m.sandbox.demoMerchant!;
    const wrongKeySameSerial = createRsaSigner({
      privateKey: other.privateKeyPem,
      serialNo: demo.serialNo,
    });
    const stale = String(Math.floor(Date.now() / 1000) - 6 * 60);
    const cases: [string, string | undefined][] = [
      ['none', undefined],
      ['another key', auth(m, wrongKeySameSerial, 'POST', path, body)],
      ['another serial', auth(m, other.signer, 'POST', path, body)],
      ['stale', auth(m, m.signer, 'POST', path, body, stale)],
      ['body changed', auth(m, m.signer, 'POST', path, body.replace('"x"', '"y"'))],
      ['malformed', 'WECHATPAY2-SHA256-RSA2048 mchid=1'],
    ];
    for (const [name, authorization] of cases) {
      const r = await raw(m, 'POST', path, body, authorization);
      assert.equal(r.status, 401, name);
      assert.equal(r.json.code, 'SIGN_ERROR', name);
      assert.ok(r.headers['wechatpay-signature'], `${name}: refusals are signed too`);
    }
    const foreign = await raw(
      m,
      'POST',
      path,
      body,
      buildAuthorization(m.signer, { mchId: '1234567890', method: 'POST', url: path, body }),
    );
    assert.equal(foreign.status, 400);
    assert.equal(foreign.json.code, 'MCH_NOT_EXISTS');
    assert.equal(m.sandbox.trade('V3SIGN0001'), undefined);
  });

  test('no Accept or User-Agent, or an Accept without JSON: 400 INVALID_REQUEST, nothing made', async (t) => {
    const m = await v3MerchantFor(t);
    const { openid } = m.sandbox.loginCode();
    const body = JSON.stringify({
      appid: m.sandbox.credentials.appId,
      mchid: m.sandbox.credentials.mchId,
      description: 'x',
      out_trade_no: 'V3HEAD0001',
      notify_url: NOTIFY,
      amount: { total: 1, currency: 'CNY' },
      payer: { openid },
    });
    const path = '/v3/pay/transactions/jsapi';
    const cases: [Record<string, string>, RegExp][] = [
      [{ 'user-agent': 'minipay-test' }, /^Http头缺少Accept或User-Agent$/],
      [{ accept: 'application/json' }, /^Http头缺少Accept或User-Agent$/],
      [{ accept: 'application/json', 'user-agent': ' ' }, /缺少Accept或User-Agent/],
      [{ accept: 'text/html', 'user-agent': 'minipay-test' }, /Accept须为application\/json/],
    ];
    for (const [headers, message] of cases) {
      const r = await raw(m, 'POST', path, body, auth(m, m.signer, 'POST', path, body), headers);
      assert.equal(r.status, 400, JSON.stringify(headers));
      assert.equal(r.json.code, 'INVALID_REQUEST');
      assert.match(String(r.json.message), message);
    }
    assert.equal(m.sandbox.trade('V3HEAD0001'), undefined);
    for (const accept of ['*/*', 'application/json; charset=utf-8', 'text/html, application/*']) {
      const headers = { accept, 'user-agent': 'minipay-test' };
      const r = await raw(m, 'POST', path, body, auth(m, m.signer, 'POST', path, body), headers);
      assert.equal(r.status, 200, accept);
    }
  });

  test('a body that is not a JSON object, or over 64 KiB: 400 PARAM_ERROR', async (t) => {
    const m = await v3MerchantFor(t);
    for (const body of ['not json', '[1,2]', JSON.stringify({ pad: 'x'.repeat(70 * 1024) })]) {
      const r = await signedCall(m, 'POST', '/v3/pay/transactions/jsapi', body);
      assert.equal(r.status, 400);
      assert.equal(r.json.code, 'PARAM_ERROR');
    }
  });

  test('systemErrorRate answers 500 SYSTEM_ERROR (ambiguous) without acting', async (t) => {
    const m = await v3MerchantFor(t, {
      faults: { systemErrorRate: { '/v3/pay/transactions/jsapi': 1 } },
    });
    const err = await rejected(newOrder(m));
    assert.equal(err.code, 'SYSTEM_ERROR');
    assert.equal(err.kind, 'ambiguous');
  });
});

describe('sandbox APIv3: answerSignatures spoil answers after acting', () => {
  for (const mode of ['public_key', 'certificate'] as const) {
    test(`${mode} mode: each fault is refused by the merchant with its code; the call acted`, async (t) => {
      const m = await v3MerchantFor(t, { v3: { platformMode: mode } });
      await newOrder(m); // certificates downloaded before the faults
      for (const fault of ANSWER_SIGNATURE_FAULTS) {
        await m.sandbox.setFaults({
          answerSignatures: { '/v3/pay/transactions/jsapi': { [fault]: 1 } },
        });
        const no = outTradeNo('V3');
        const err = await rejected(newOrder(m, undefined, { outTradeNo: no }));
        assert.equal(err.code, fault);
        assert.equal(err.kind, 'invalid');
        assert.equal(m.sandbox.trade(no)?.tradeState, 'NOTPAY', 'the prepay was made');
        assert.deepEqual(m.sandbox.faults().answerSignatures, { '/v3/pay/transactions/jsapi': {} });
      }
    });
  }
});

describe('sandbox APIv3: platform modes, rotation, probes', () => {
  test('public_key mode: /v3/certificates has nothing to list', async (t) => {
    const m = await v3MerchantFor(t);
    const r = await signedCall(m, 'GET', '/v3/certificates', '');
    assert.equal(r.status, 404);
    assert.match(String(r.json.message), /无可用的平台证书/);
    const platform = await api(m.sandbox, 'GET', '/sandbox/v1/v3/platform');
    assert.equal(platform.body.mode, 'public_key');
    assert.match(String(platform.body.publicKeyId), /^PUB_KEY_ID_/);
  });

  test('public_key mode: a rotation signs with the next key shown ahead; a merchant with it verifies', async (t) => {
    const m = await v3MerchantFor(t);
    const before = m.sandbox.v3Platform();
    assert.match(before.nextPublicKey.publicKeyId, /^PUB_KEY_ID_/);
    assert.notEqual(before.nextPublicKey.publicKeyId, before.publicKeyId);
    const rotated = await api(m.sandbox, 'POST', '/sandbox/v1/v3/rotate', {});
    assert.equal(rotated.status, 200);
    assert.equal(rotated.body.publicKeyId, before.nextPublicKey.publicKeyId);
    assert.notEqual(
      (rotated.body.nextPublicKey as { publicKeyId: string }).publicKeyId,
      before.nextPublicKey.publicKeyId,
    );
    // The merchant's verifier knows only the old key: the new signature is an unknown serial.
    const err = await rejected(newOrder(m));
    assert.equal(err.code, 'UNKNOWN_SERIAL');
    const both = publicKeysVerifier([
      publicKeyVerifier({ keyId: before.publicKeyId, publicKey: before.publicKeyPem }),
      publicKeyVerifier({
        keyId: before.nextPublicKey.publicKeyId,
        publicKey: before.nextPublicKey.publicKeyPem,
      }),
    ]);
    const client = new WechatPayV3Client({
      mchId: m.sandbox.credentials.mchId,
      signer: m.signer,
      verifier: both,
      baseUrl: m.sandbox.url,
    });
    t.after(() => client.close());
    const order = await newOrder({ ...m, client });
    assert.match(order.prepayId, /^wx/);
  });

  test('certificate mode: answers verify with the downloaded certificate, and still after a rotation', async (t) => {
    const m = await v3MerchantFor(t, { v3: { platformMode: 'certificate' } });
    const first = m.sandbox.v3Platform().certificates[0]!.serialNo;
    await newOrder(m);
    assert.equal(m.serials.at(-1), first);
    const rotated = await api(m.sandbox, 'POST', '/sandbox/v1/v3/rotate', {});
    assert.equal(rotated.status, 200);
    const serials = (rotated.body.certificates as { serialNo: string }[]).map((c) => c.serialNo);
    assert.equal(serials.length, 2);
    assert.equal(serials[0], first);
    await newOrder(m);
    assert.equal(m.serials.at(-1), serials[1]);
  });

  test('both mode: answers signed by either key, each verified by the one its serial names', async (t) => {
    const m = await v3MerchantFor(t, { v3: { platformMode: 'both' }, seed: 3 });
    const order = await newOrder(m);
    for (let i = 0; i < 12; i++) await queryByOutTradeNo(m.client, order.outTradeNo);
    const platform = m.sandbox.v3Platform();
    const kinds = new Set(
      m.serials.map((s) => (s === platform.publicKeyId ? 'public_key' : 'certificate')),
    );
    assert.deepEqual([...kinds].sort(), ['certificate', 'public_key']);
  });

  test('retries are signed afresh: each attempt its own timestamp and nonce', async (t) => {
    const receiver = await NotifyReceiver.start(t);
    receiver.reply = (_r, n) =>
      n === 1 ? { status: 500, body: '{"code":"FAIL"}' } : { status: 204 };
    const m = await v3MerchantFor(t, { timeScale: 1000 });
    const order = await newOrder(m, receiver.url);
    assert.equal((await pay(m, order)).status, 200);
    await receiver.waitFor(2);
    const [a, b] = receiver.received;
    assert.equal(a!.body, b!.body);
    assert.notEqual(a!.headers['wechatpay-nonce'], b!.headers['wechatpay-nonce']);
    await until(() => m.sandbox.notifications()[0]?.status === 'delivered');
    const attempts = m.sandbox.notifications()[0]!.attempts.map((x) => x.outcome);
    assert.deepEqual(attempts, ['fail', 'success']);
  });

  test('a signature probe is refused by a merchant that verifies, accepted by one that does not', async (t) => {
    const m = await v3MerchantFor(t);
    const apiV3Key = loadApiV3Key(m.sandbox.credentials.apiV3Key);
    const verifying = await NotifyReceiver.start(t);
    const careless = await NotifyReceiver.start(t);
    careless.reply = () => ({ status: 204 });
    let reply = { status: 0, body: '' };
    verifying.reply = () => ({ status: 401 });
    const r1 = await api(m.sandbox, 'POST', '/sandbox/v1/v3/probe', { url: verifying.url });
    const got = verifying.received[0]!;
    try {
      await readPaymentNotification(
        { headers: got.headers, body: got.body },
        { verifier: m.verifier, apiV3Key, mchId: m.sandbox.credentials.mchId },
      );
      assert.fail('the probe verified');
    } catch (err) {
      assert.ok(err instanceof WechatPayError);
      assert.equal(err.code, 'SIGN_PROBE');
      reply = notificationReply(err);
    }
    assert.equal(reply.status, 401);
    assert.equal(r1.body.refused, true);
    const r2 = await api(m.sandbox, 'POST', '/sandbox/v1/v3/probe', { url: careless.url });
    assert.equal(r2.body.refused, false);
  });

  test('demo merchant material is served; a merchant key given instead is used and not served', async (t) => {
    const own = await generateMerchantIdentity('1900000109');
    const sandbox = await sandboxFor(t, {
      v3: { mchSerial: own.serialNo, mchPublicKey: own.certificatePem },
    });
    assert.equal(sandbox.demoMerchant, undefined);
    assert.equal((await api(sandbox, 'GET', '/sandbox/v1/v3/merchant')).status, 404);
    const demo = await sandboxFor(t);
    const served = await api(demo, 'GET', '/sandbox/v1/v3/merchant');
    assert.equal(served.status, 200);
    assert.match(String(served.body.privateKeyPem), /BEGIN PRIVATE KEY/);
  });
});

/** yyyyMMdd → yyyy-MM-dd, as v3 names days. */
function dashed(day: string): string {
  return `${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6)}`;
}

function auth(
  m: V3Merchant,
  signer: Signer,
  method: string,
  url: string,
  body: string,
  timestamp?: string,
): string {
  return buildAuthorization(signer, {
    mchId: m.sandbox.credentials.mchId,
    method,
    url,
    body,
    timestamp,
  });
}

async function raw(
  m: V3Merchant,
  method: 'GET' | 'POST',
  path: string,
  body: string,
  authorization: string | undefined,
  headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'minipay-test' },
) {
  const res = await request(m.sandbox.url + path, {
    method,
    body: method === 'POST' ? body : undefined,
    headers: {
      'content-type': 'application/json',
      ...headers,
      ...(authorization ? { authorization } : {}),
    },
  });
  const text = await res.body.text();
  return {
    status: res.statusCode,
    headers: res.headers,
    json: (text ? JSON.parse(text) : {}) as Record<string, unknown>,
  };
}

function signedCall(m: V3Merchant, method: 'GET' | 'POST', path: string, body: string) {
  return raw(m, method, path, body, auth(m, m.signer, method, path, body));
}

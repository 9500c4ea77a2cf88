/**
 * The APIv3 client and its products against a fake WeChat on loopback (support.ts) that checks
 * every request's Authorization with the merchant certificate: prepay, queries, close, refunds,
 * bills (hash, gzip), certificates; every answer verified before it is read; error answers as
 * typed errors; failover and retries.
 */
import assert from 'node:assert/strict';
import { hash } from 'node:crypto';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { v3 } from '../../../src/wechatpay/index.js';
import {
  APP_ID,
  clientOf,
  type FakeWechat,
  fakeWechat,
  type Identities,
  identities,
  rejectsWith,
} from './support.js';

const NO = 'MP20260101120000ABCDEFGHIJ';
const TRANSACTION = {
  appid: APP_ID,
  mchid: '1900000109',
  out_trade_no: NO,
  transaction_id: '4200000000202601011234567890',
  trade_type: 'JSAPI',
  trade_state: 'SUCCESS',
  bank_type: 'OTHERS',
  success_time: '2026-01-01T12:00:05+08:00',
  payer: { openid: 'o1' },
  amount: { total: 1999, payer_total: 1999, currency: 'CNY', payer_currency: 'CNY' },
};
const REFUND = {
  refund_id: '50000000382019052709732678859',
  out_refund_no: 'RF1',
  transaction_id: TRANSACTION.transaction_id,
  out_trade_no: NO,
  channel: 'ORIGINAL',
  user_received_account: '招商银行信用卡0403',
  create_time: '2026-01-01T13:00:00+08:00',
  status: 'PROCESSING',
  funds_account: 'AVAILABLE',
  amount: { total: 1999, refund: 500, payer_total: 1999, payer_refund: 500, currency: 'CNY' },
};
const PREPAY = {
  appId: APP_ID,
  description: '咖啡 Coffee',
  outTradeNo: NO,
  notifyUrl: 'https://shop.example/wechatpay/v3/notify',
  total: 1999,
  payerOpenid: 'o1',
};

async function setup(
  t: import('node:test').TestContext,
  options: Partial<v3.WechatPayV3ClientOptions> = {},
) {
  const ids = await identities();
  const fake = await fakeWechat(t, { merchant: ids.merchant, signer: ids.publicKey.signer });
  const verified: string[] = [];
  const client = clientOf(t, fake, ids, {
    onVerified: (e) => verified.push(`${e.what} ${e.verification.mode}`),
    ...options,
  });
  return { ids, fake, client, verified };
}

describe('APIv3 client: payments', () => {
  it('prepays with a signed JSON body and reads the verified prepay_id', async (t) => {
    const { fake, client, verified } = await setup(t);
    fake.answer('POST /v3/pay/transactions/jsapi', {
      status: 200,
      body: { prepay_id: 'wx201410272009395522657a690389285100' },
    });
    const r = await v3.prepayJsapi(client, {
      ...PREPAY,
      attach: 'a',
      timeExpire: new Date('2026-01-01T04:30:00Z'),
    });
    assert.equal(r.prepayId, 'wx201410272009395522657a690389285100');
    const sent = JSON.parse(fake.seen[0]!.body);
    assert.deepEqual(sent, {
      appid: APP_ID,
      mchid: '1900000109',
      description: '咖啡 Coffee',
      out_trade_no: NO,
      time_expire: '2026-01-01T12:30:00+08:00',
      attach: 'a',
      notify_url: PREPAY.notifyUrl,
      amount: { total: 1999, currency: 'CNY' },
      payer: { openid: 'o1' },
    });
    assert.equal(fake.seen[0]!.headers['content-type'], 'application/json');
    assert.match(fake.seen[0]!.headers['user-agent'] ?? '', /minipay/);
    assert.deepEqual(verified, ['POST /v3/pay/transactions/jsapi public_key']);
  });

  it('checks arguments before sending', async (t) => {
    const { fake, client } = await setup(t);
    const bad: Partial<v3.JsapiPrepayRequest>[] = [
      { outTradeNo: 'short' },
      { total: 0 },
      { total: 19.99 },
      { description: '中'.repeat(43) },
      { description: '' },
      { payerOpenid: '' },
      { notifyUrl: 'https://shop.example/notify?x=1' },
      { attach: 'x'.repeat(129) },
      { appId: '' },
    ];
    for (const over of bad) {
      await rejectsWith(
        v3.prepayJsapi(client, { ...PREPAY, ...over }),
        'rejected',
        'INVALID_ARGUMENT',
      );
    }
    assert.equal(fake.seen.length, 0);
  });

  it('queries by out_trade_no and by transaction_id, with mchid in the query', async (t) => {
    const { fake, client } = await setup(t);
    fake.answer(`GET /v3/pay/transactions/out-trade-no/${NO}`, { status: 200, body: TRANSACTION });
    fake.answer(`GET /v3/pay/transactions/id/${TRANSACTION.transaction_id}`, {
      status: 200,
      body: TRANSACTION,
    });
    const a = await v3.queryByOutTradeNo(client, NO);
    const b = await v3.queryByTransactionId(client, TRANSACTION.transaction_id);
    assert.equal(a.tradeState, 'SUCCESS');
    assert.equal(b.amount?.total, 1999);
    assert.equal(fake.seen[0]!.path, `/v3/pay/transactions/out-trade-no/${NO}?mchid=1900000109`);
    fake.answer(`GET /v3/pay/transactions/out-trade-no/${NO}`, {
      status: 200,
      body: {
        appid: APP_ID,
        mchid: '1900000109',
        out_trade_no: NO,
        trade_state: 'NOTPAY',
        trade_state_desc: '订单未支付',
      },
    });
    const unpaid = await v3.queryByOutTradeNo(client, NO);
    assert.equal(unpaid.tradeState, 'NOTPAY');
    assert.equal(unpaid.transactionId, undefined);
  });

  it('refuses an answer for another merchant, and one that does not verify, before reading it', async (t) => {
    const { ids, fake, client } = await setup(t);
    const path = `GET /v3/pay/transactions/out-trade-no/${NO}`;
    fake.answer(path, { status: 200, body: { ...TRANSACTION, mchid: '1230000109' } });
    await rejectsWith(v3.queryByOutTradeNo(client, NO), 'invalid', 'WRONG_MERCHANT');
    fake.answer(path, {
      status: 200,
      body: TRANSACTION,
      tamper: (b) => Buffer.from(b.toString().replace('1999', '1')),
    });
    await rejectsWith(v3.queryByOutTradeNo(client, NO), 'invalid', 'BAD_SIGNATURE');
    fake.answer(path, { status: 200, body: TRANSACTION, signer: false });
    await rejectsWith(v3.queryByOutTradeNo(client, NO), 'invalid', 'MISSING_HEADER');
    fake.answer(path, { status: 200, body: TRANSACTION, signer: ids.oldCertificate.signer });
    await rejectsWith(v3.queryByOutTradeNo(client, NO), 'invalid', 'UNKNOWN_SERIAL');
    fake.answer(path, { status: 200, body: 'not json' });
    await rejectsWith(v3.queryByOutTradeNo(client, NO), 'invalid', 'NOT_JSON');
  });

  it('closes with 204 and an empty verified body', async (t) => {
    const { fake, client } = await setup(t);
    fake.answer(`POST /v3/pay/transactions/out-trade-no/${NO}/close`, { status: 204 });
    await v3.closeOrder(client, NO);
    assert.deepEqual(JSON.parse(fake.seen[0]!.body), { mchid: '1900000109' });
  });

  it('builds wx.requestPayment parameters WeChat verifies with the merchant certificate', async () => {
    const ids = await identities();
    const params = v3.buildRequestPaymentV3({
      appId: APP_ID,
      prepayId: 'wx1',
      signer: ids.merchant.signer,
    });
    assert.ok(v3.verifyRequestPaymentV3(params, ids.merchant.certificatePem));
  });
});

describe('APIv3 client: error answers', () => {
  it('types {code, message, detail} by code, then by status, with the Request-ID', async (t) => {
    const { fake, client } = await setup(t, { retry: { attempts: 0 } });
    const route = 'POST /v3/pay/transactions/jsapi';
    const cases: [number, string, string][] = [
      [400, 'PARAM_ERROR', 'rejected'],
      [403, 'OUT_TRADE_NO_USED', 'rejected'],
      [400, 'ORDER_CLOSED', 'rejected'],
      [401, 'SIGN_ERROR', 'config'],
      [403, 'NO_AUTH', 'config'],
      [400, 'APPID_MCHID_NOT_MATCH', 'config'],
      [429, 'FREQUENCY_LIMITED', 'later'],
      [500, 'SYSTEM_ERROR', 'ambiguous'],
      [502, 'PARAM_ERROR', 'ambiguous'],
      [418, 'SOMETHING_NEW', 'rejected'],
      [403, 'SOMETHING_NEW', 'config'],
    ];
    for (const [status, code, kind] of cases) {
      fake.answer(route, {
        status,
        body: { code, message: '说明', detail: { field: '/amount/total', issue: 'x' } },
      });
      const e = await rejectsWith(v3.prepayJsapi(client, PREPAY), kind, code);
      assert.equal(e.status, status);
      assert.equal(e.requestId, 'REQ-1');
      assert.equal(e.verified, true);
      assert.equal(e.description, '说明');
      assert.deepEqual(e.detail, { field: '/amount/total', issue: 'x' });
      assert.match(
        e.message,
        /POST \/v3\/pay\/transactions\/jsapi: HTTP \d+ .*\(说明\).*\[Request-ID REQ-1\]/,
      );
    }
  });

  it('classifies an unsigned error answer but says it is unsigned; refuses a badly signed one', async (t) => {
    const { ids, fake, client } = await setup(t, { retry: { attempts: 0 } });
    const route = `GET /v3/pay/transactions/out-trade-no/${NO}`;
    fake.answer(route, {
      status: 404,
      body: { code: 'ORDER_NOT_EXIST', message: '订单不存在' },
      signer: false,
    });
    const e = await rejectsWith(v3.queryByOutTradeNo(client, NO), 'rejected', 'ORDER_NOT_EXIST');
    assert.equal(e.verified, false);
    assert.match(e.message, /not signed by WeChat/);
    fake.answer(route, {
      status: 404,
      body: { code: 'ORDER_NOT_EXIST' },
      signer: ids.oldCertificate.signer,
    });
    await rejectsWith(v3.queryByOutTradeNo(client, NO), 'invalid', 'UNKNOWN_SERIAL');
    fake.answer(route, { status: 502, body: '<html>bad gateway</html>', signer: false });
    await rejectsWith(v3.queryByOutTradeNo(client, NO), 'ambiguous', 'HTTP_502');
    fake.answer(route, { status: 301, body: '', signer: false });
    await rejectsWith(v3.queryByOutTradeNo(client, NO), 'config', 'HTTP_301');
  });

  it('a refund refused for want of balance or within the minute is `later`; elsewhere NOT_ENOUGH is the payer’s', async (t) => {
    const { fake, client } = await setup(t);
    fake.answer('POST /v3/refund/domestic/refunds', {
      status: 403,
      body: { code: 'NOT_ENOUGH', message: '基本账户余额不足' },
    });
    await rejectsWith(
      v3.createRefund(client, { outTradeNo: NO, outRefundNo: 'RF1', refund: 500, total: 1999 }),
      'later',
      'NOT_ENOUGH',
    );
    fake.answer('POST /v3/refund/domestic/refunds', {
      status: 429,
      body: { code: 'FREQUENCY_LIMITED', message: '频率限制' },
    });
    await rejectsWith(
      v3.createRefund(client, { outTradeNo: NO, outRefundNo: 'RF1', refund: 500, total: 1999 }),
      'later',
      'FREQUENCY_LIMITED',
    );
    fake.answer('POST /v3/pay/transactions/jsapi', {
      status: 403,
      body: { code: 'NOT_ENOUGH', message: '用户账号余额不足' },
    });
    await rejectsWith(v3.prepayJsapi(client, PREPAY), 'rejected', 'NOT_ENOUGH');
  });

  it('a key that does not match the serial WeChat knows ends in SIGN_ERROR, `config`', async (t) => {
    const { ids, fake } = await setup(t);
    const wrong = clientOf(t, fake, ids, {
      signer: v3.createRsaSigner({
        privateKey: ids.publicKey.privateKey,
        serialNo: ids.merchant.serialNo,
      }),
    });
    const e = await rejectsWith(v3.closeOrder(wrong, NO), 'config', 'SIGN_ERROR');
    assert.match(e.message, /private key is the one of the merchant API certificate/);
  });
});

describe('APIv3 client: refunds', () => {
  it('creates and queries refunds', async (t) => {
    const { fake, client } = await setup(t);
    fake.answer('POST /v3/refund/domestic/refunds', { status: 200, body: REFUND });
    fake.answer('GET /v3/refund/domestic/refunds/RF1', {
      status: 200,
      body: { ...REFUND, status: 'SUCCESS', success_time: '2026-01-01T13:00:05+08:00' },
    });
    const r = await v3.createRefund(client, {
      transactionId: TRANSACTION.transaction_id,
      outRefundNo: 'RF1',
      refund: 500,
      total: 1999,
      reason: '售罄',
    });
    assert.equal(r.status, 'PROCESSING');
    assert.equal(r.amount.refund, 500);
    assert.deepEqual(JSON.parse(fake.seen[0]!.body), {
      transaction_id: TRANSACTION.transaction_id,
      out_refund_no: 'RF1',
      reason: '售罄',
      amount: { refund: 500, total: 1999, currency: 'CNY' },
    });
    const q = await v3.queryRefund(client, 'RF1');
    assert.equal(q.status, 'SUCCESS');
    assert.ok(q.successTime instanceof Date);
  });

  it('checks refund arguments before sending', async (t) => {
    const { fake, client } = await setup(t);
    for (const req of [
      { outTradeNo: NO, outRefundNo: 'RF 1', refund: 1, total: 2 },
      { outTradeNo: NO, outRefundNo: 'RF1', refund: 3, total: 2 },
      { outTradeNo: NO, outRefundNo: 'RF1', refund: 1, total: 2, reason: '退'.repeat(27) },
      { transactionId: 'x/y', outRefundNo: 'RF1', refund: 1, total: 2 },
    ]) {
      await rejectsWith(v3.createRefund(client, req), 'rejected', 'INVALID_ARGUMENT');
    }
    assert.equal(fake.seen.length, 0);
  });
});

describe('APIv3 client: bills', () => {
  const BILL = '交易时间,公众账号ID\r\n`2026-01-01 12:00:05,`wxd678efh567hg6787\r\n';

  function billRoutes(fake: FakeWechat, file: Buffer, announced: string) {
    fake.answer('GET /v3/bill/tradebill', {
      status: 200,
      body: {
        hash_type: 'SHA1',
        hash_value: announced,
        download_url: `${fake.url}/v3/billdownload/file?token=T1`,
      },
    });
    fake.answer('GET /v3/billdownload/file', { status: 200, body: file, signer: false });
  }

  it('downloads a trade bill, checked by its SHA1, plain and gzipped', async (t) => {
    const { fake, client } = await setup(t);
    const sha1 = hash('sha1', BILL, 'hex');
    billRoutes(fake, Buffer.from(BILL), sha1);
    assert.equal(await v3.tradeBill(client, { billDate: '2026-01-01' }), BILL);
    assert.equal(fake.seen[0]!.path, '/v3/bill/tradebill?bill_date=2026-01-01');
    assert.equal(fake.seen[1]!.path, '/v3/billdownload/file?token=T1');
    billRoutes(fake, gzipSync(BILL), sha1);
    assert.equal(
      await v3.tradeBill(client, { billDate: '2026-01-01', billType: 'SUCCESS', gzip: true }),
      BILL,
    );
    assert.equal(
      fake.seen[2]!.path,
      '/v3/bill/tradebill?bill_date=2026-01-01&bill_type=SUCCESS&tar_type=GZIP',
    );
  });

  it('refuses a bill whose hash differs, a gzip that does not inflate, and a download URL elsewhere', async (t) => {
    const { fake, client } = await setup(t);
    billRoutes(fake, Buffer.from(`${BILL}x`), hash('sha1', BILL, 'hex'));
    await rejectsWith(v3.tradeBill(client, { billDate: '2026-01-01' }), 'invalid', 'BAD_HASH');
    billRoutes(fake, Buffer.from(BILL), hash('sha1', BILL, 'hex'));
    await rejectsWith(
      v3.tradeBill(client, { billDate: '2026-01-01', gzip: true }),
      'invalid',
      'BAD_GZIP',
    );
    fake.answer('GET /v3/bill/tradebill', {
      status: 200,
      body: {
        hash_type: 'SHA1',
        hash_value: hash('sha1', BILL, 'hex'),
        download_url: 'http://203.0.113.9/steal',
      },
    });
    await rejectsWith(v3.tradeBill(client, { billDate: '2026-01-01' }), 'invalid', 'MALFORMED');
    await rejectsWith(
      v3.tradeBill(client, { billDate: '20260101' }),
      'rejected',
      'INVALID_ARGUMENT',
    );
  });

  it('a day without a bill is null; one not published yet is `later` BILL_NOT_READY; fund-flow bills too', async (t) => {
    const { fake, client } = await setup(t);
    fake.answer('GET /v3/bill/tradebill', {
      status: 400,
      body: { code: 'NO_STATEMENT_EXIST', message: '账单文件不存在' },
    });
    assert.equal(await v3.tradeBill(client, { billDate: '2026-01-01' }), null);
    fake.answer('GET /v3/bill/fundflowbill', {
      status: 400,
      body: { code: 'STATEMENT_CREATING', message: '账单生成中' },
    });
    const e = await rejectsWith(
      v3.fundFlowBill(client, { billDate: '2026-01-01' }),
      'later',
      'BILL_NOT_READY',
    );
    assert.equal(e.description, '账单生成中');
    fake.answer('GET /v3/bill/fundflowbill', {
      status: 200,
      body: {
        hash_type: 'SHA1',
        hash_value: hash('sha1', 'f', 'hex'),
        download_url: `${fake.url}/v3/billdownload/file?token=F`,
      },
    });
    fake.answer('GET /v3/billdownload/file', {
      status: 200,
      body: Buffer.from('f'),
      signer: false,
    });
    assert.equal(
      await v3.fundFlowBill(client, { billDate: '2026-01-01', accountType: 'OPERATION' }),
      'f',
    );
    assert.match(fake.seen.at(-2)!.path, /account_type=OPERATION/);
  });
});

describe('APIv3 client: platform certificates', () => {
  async function certificatesFake(
    t: import('node:test').TestContext,
    ids: Identities,
    signer: v3.Signer,
  ) {
    const fake = await fakeWechat(t, { merchant: ids.merchant, signer });
    const list = [ids.oldCertificate.certificate, ids.newCertificate.certificate];
    fake.answer('GET /v3/certificates', () => ({
      status: 200,
      body: v3.certificatesAnswer(list, ids.apiV3Key),
    }));
    return fake;
  }

  it('downloads, decrypts and self-verifies /v3/certificates, then verifies answers with them', async (t) => {
    const ids = await identities();
    const fake = await certificatesFake(t, ids, ids.newCertificate.signer);
    let client: v3.WechatPayV3Client;
    const source = new v3.MemoryCertificateSource(() =>
      v3.downloadCertificates(client, ids.apiV3Key),
    );
    const verifier = new v3.CertificateVerifier(source);
    client = clientOf(t, fake, ids, { verifier });
    fake.answer(`GET /v3/pay/transactions/out-trade-no/${NO}`, { status: 200, body: TRANSACTION });
    assert.equal((await v3.queryByOutTradeNo(client, NO)).tradeState, 'SUCCESS');
    // Downloaded when the first answer needed verifying, and verified by itself (no recursion).
    assert.deepEqual(
      fake.seen.map((s) => s.path.split('?')[0]),
      [`/v3/pay/transactions/out-trade-no/${NO}`, '/v3/certificates'],
    );
    const list = await source.current();
    assert.deepEqual(
      list.map((c) => c.serialNo),
      [ids.oldCertificate.certificate.serialNo, ids.newCertificate.certificate.serialNo],
    );
    assert.equal(
      list[0]!.expireTime.getTime(),
      Math.floor(ids.oldCertificate.certificate.expireTime.getTime() / 1000) * 1000,
    );
  });

  it('refuses a certificates answer that another APIv3 key encrypted or no listed key signed', async (t) => {
    const ids = await identities();
    const fake = await certificatesFake(t, ids, ids.publicKey.signer);
    const client = clientOf(t, fake, ids);
    await rejectsWith(v3.downloadCertificates(client, ids.apiV3Key), 'invalid', 'UNKNOWN_SERIAL');
    const both = await v3.downloadCertificates(client, ids.apiV3Key, {
      fallback: v3.publicKeyVerifier({
        keyId: ids.publicKey.keyId,
        publicKey: ids.publicKey.publicKeyPem,
      }),
    });
    assert.equal(both.length, 2);
    await rejectsWith(
      v3.downloadCertificates(client, v3.loadApiV3Key('q'.repeat(32))),
      'invalid',
      'BAD_CIPHERTEXT',
    );
  });
});

describe('APIv3 client: certificate download errors', () => {
  it('a public-key-only merchant in certificate mode gets the typed error, not a hang', async (t) => {
    const ids = await identities();
    const fake = await fakeWechat(t, { merchant: ids.merchant, signer: ids.publicKey.signer });
    fake.answer('GET /v3/certificates', {
      status: 404,
      body: { code: 'NOT_FOUND', message: '无可用的平台证书' },
    });
    let client: v3.WechatPayV3Client;
    const verifier = new v3.CertificateVerifier(
      new v3.MemoryCertificateSource(() => v3.downloadCertificates(client, ids.apiV3Key)),
    );
    client = clientOf(t, fake, ids, { verifier, retry: { attempts: 0 } });
    fake.answer(`POST /v3/pay/transactions/out-trade-no/${NO}/close`, { status: 204 });
    const e = await rejectsWith(v3.closeOrder(client, NO), 'rejected', 'NOT_FOUND');
    assert.equal(e.verified, false);
    assert.match(e.message, /无可用的平台证书/);
    const both = await rejectsWith(
      v3.downloadCertificates(client, ids.apiV3Key, {
        fallback: v3.publicKeyVerifier({
          keyId: ids.publicKey.keyId,
          publicKey: ids.publicKey.publicKeyPem,
        }),
      }),
      'rejected',
      'NOT_FOUND',
    );
    assert.equal(both.verified, true);
  });
});

describe('APIv3 client: failover and retries', () => {
  it('sends a failed exchange to the backup domain once, and retries read-only calls', async (t) => {
    const ids = await identities();
    const main = await fakeWechat(t, { merchant: ids.merchant, signer: ids.publicKey.signer });
    const backup = await fakeWechat(t, { merchant: ids.merchant, signer: ids.publicKey.signer });
    const failovers: string[] = [];
    const client = clientOf(t, main, ids, {
      backupBaseUrl: backup.url,
      onFailover: (e) => failovers.push(`${e.path} ${e.reason}`),
    });
    main.answer('POST /v3/pay/transactions/jsapi', {
      status: 503,
      body: { code: 'SERVICE_UNAVAILABLE' },
    });
    backup.answer('POST /v3/pay/transactions/jsapi', { status: 200, body: { prepay_id: 'wx9' } });
    assert.equal((await v3.prepayJsapi(client, PREPAY)).prepayId, 'wx9');
    assert.deepEqual(failovers, ['/v3/pay/transactions/jsapi HTTP_503']);
    assert.equal(main.seen[0]!.headers.authorization, backup.seen[0]!.headers.authorization);

    const single = clientOf(t, main, ids);
    const route = `GET /v3/pay/transactions/out-trade-no/${NO}`;
    main.answer(
      route,
      { status: 500, body: { code: 'SYSTEM_ERROR' } },
      { status: 200, body: TRANSACTION },
    );
    assert.equal((await v3.queryByOutTradeNo(single, NO)).tradeState, 'SUCCESS');
    main.answer(
      'POST /v3/pay/transactions/jsapi',
      { status: 500, body: { code: 'SYSTEM_ERROR' } },
      { status: 200, body: { prepay_id: 'never' } },
    );
    await rejectsWith(v3.prepayJsapi(single, PREPAY), 'ambiguous', 'SYSTEM_ERROR');
  });

  it('an unreachable WeChat is `ambiguous` NETWORK, and a config without a signer is refused', async (t) => {
    const ids = await identities();
    const client = clientOf(
      t,
      { url: 'http://127.0.0.1:9', seen: [], answer: () => undefined },
      ids,
      { retry: { attempts: 0 } },
    );
    await rejectsWith(v3.closeOrder(client, NO), 'ambiguous', 'NETWORK');
    assert.throws(
      () =>
        new v3.WechatPayV3Client({
          mchId: 'x',
          signer: ids.merchant.signer,
          verifier: { verify: async () => ({ mode: 'public_key', serial: '' }) },
        }),
      /mchId/,
    );
  });
});

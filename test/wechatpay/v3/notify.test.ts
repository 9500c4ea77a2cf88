/**
 * APIv3 payment and refund notifications: read as built, and every hostile input refused with
 * a typed error and no result (missing and repeated headers, stale and future timestamps,
 * unknown serial, probes, non-JSON, oversized, the wrong event, tampered resources, another
 * APIv3 key, another merchant).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { v3 } from '../../../src/wechatpay/index.js';
import { APP_ID, identities, MCH_ID, rejectsWith } from './support.js';

const TRANSACTION = {
  appid: APP_ID,
  mchid: MCH_ID,
  out_trade_no: 'MP20260101120000ABCDEFGHIJ',
  transaction_id: '4200000000202601011234567890',
  trade_type: 'JSAPI',
  trade_state: 'SUCCESS',
  trade_state_desc: '支付成功',
  bank_type: 'OTHERS',
  attach: '  gift ',
  success_time: '2026-01-01T12:00:05+08:00',
  payer: { openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
  amount: { total: 1999, payer_total: 1999, currency: 'CNY', payer_currency: 'CNY' },
};

const REFUND = {
  mchid: MCH_ID,
  transaction_id: '4200000000202601011234567890',
  out_trade_no: 'MP20260101120000ABCDEFGHIJ',
  refund_id: '50000000382019052709732678859',
  out_refund_no: 'RF20260101130000ABCDEFGHIJ',
  refund_status: 'SUCCESS',
  success_time: '2026-01-01T13:00:05+08:00',
  user_received_account: '招商银行信用卡0403',
  amount: { total: 1999, refund: 500, payer_total: 1999, payer_refund: 500 },
};

type Message = { headers: Record<string, string | string[] | undefined>; body: string | Buffer };

async function setup() {
  const ids = await identities();
  const options = {
    verifier: v3.publicKeyVerifier({
      keyId: ids.publicKey.keyId,
      publicKey: ids.publicKey.publicKeyPem,
    }),
    apiV3Key: ids.apiV3Key,
    mchId: MCH_ID,
    appId: APP_ID,
  };
  const build = (
    input: Partial<v3.BuildNotificationInput> = {},
    over: { signer?: v3.Signer; timestamp?: string; apiV3Key?: v3.ApiV3Key } = {},
  ): Message => {
    const n = v3.buildNotification(
      {
        eventType: 'TRANSACTION.SUCCESS',
        originalType: 'transaction',
        resource: TRANSACTION,
        summary: '支付成功',
        ...input,
      },
      {
        apiV3Key: over.apiV3Key ?? ids.apiV3Key,
        signer: over.signer ?? ids.publicKey.signer,
        timestamp: over.timestamp,
      },
    );
    return { headers: lower(n.headers), body: n.body };
  };
  /** Re-signs `body` as WeChat would (so only what the test changed is wrong). */
  const resign = (body: string): Message => ({
    headers: lower(v3.signWechatpayHeaders(ids.publicKey.signer, body)),
    body,
  });
  return { ids, options, build, resign };
}

function lower(headers: object): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v as string]),
  );
}

/** `body` with its resource changed by `change` (then re-signed by the caller). */
function withResource(body: string, change: (r: Record<string, string>) => void): string {
  const json = JSON.parse(body) as { resource: Record<string, string> };
  change(json.resource);
  return JSON.stringify(json);
}

describe('APIv3 payment notifications', () => {
  it('reads a payment notification: verified, decrypted, typed, and which key verified it', async () => {
    const { ids, options, build } = await setup();
    const createTime = new Date('2026-01-01T04:00:06Z');
    const n = await v3.readPaymentNotification(
      build({ id: 'EV-2026010112000600001', createTime }),
      options,
    );
    assert.equal(n.id, 'EV-2026010112000600001');
    assert.equal(n.createTime.toISOString(), createTime.toISOString());
    assert.equal(n.eventType, 'TRANSACTION.SUCCESS');
    assert.equal(n.resourceType, 'encrypt-resource');
    assert.equal(n.summary, '支付成功');
    assert.equal(n.originalType, 'transaction');
    assert.deepEqual(n.plaintext, TRANSACTION);
    assert.deepEqual(n.verification, { mode: 'public_key', serial: ids.publicKey.keyId });
    assert.equal(n.transaction.outTradeNo, TRANSACTION.out_trade_no);
    assert.equal(n.transaction.tradeState, 'SUCCESS');
    assert.equal(n.transaction.amount?.total, 1999);
    assert.equal(n.transaction.attach, '  gift ');
    assert.equal(n.transaction.payerOpenid, TRANSACTION.payer.openid);
    assert.equal(n.transaction.successTime?.toISOString(), '2026-01-01T04:00:05.000Z');
    const asBuffer = build();
    await v3.readPaymentNotification({ ...asBuffer, body: Buffer.from(asBuffer.body) }, options);
  });

  it('reads one signed with a platform certificate in both mode', async () => {
    const { ids, options, build } = await setup();
    const verifier = v3.bothVerifier(
      options.verifier,
      new v3.CertificateVerifier(
        new v3.MemoryCertificateSource(async () => [ids.newCertificate.certificate]),
      ),
    );
    const n = await v3.readPaymentNotification(build({}, { signer: ids.newCertificate.signer }), {
      ...options,
      verifier,
    });
    assert.equal(n.verification.mode, 'certificate');
  });

  it('refuses hostile headers before reading the body', async () => {
    const { ids, options, build } = await setup();
    const m = build();
    const cases: [Message, string][] = [
      [{ ...m, headers: { ...m.headers, 'wechatpay-signature': undefined } }, 'MISSING_HEADER'],
      [{ ...m, headers: { ...m.headers, 'wechatpay-serial': undefined } }, 'MISSING_HEADER'],
      [
        {
          ...m,
          headers: {
            ...m.headers,
            'wechatpay-nonce': [m.headers['wechatpay-nonce'] as string, 'x'],
          },
        },
        'DUPLICATE_HEADER',
      ],
      [
        {
          ...m,
          headers: {
            ...m.headers,
            'wechatpay-signature': `${m.headers['wechatpay-signature']}, x`,
          },
        },
        'DUPLICATE_HEADER',
      ],
      [build({}, { timestamp: String(Math.floor(Date.now() / 1000) - 360) }), 'STALE_TIMESTAMP'],
      [build({}, { timestamp: String(Math.floor(Date.now() / 1000) + 360) }), 'STALE_TIMESTAMP'],
      [
        { ...m, headers: { ...m.headers, 'wechatpay-signature': v3.probeSignature() } },
        'SIGN_PROBE',
      ],
      [build({}, { signer: ids.oldCertificate.signer }), 'UNKNOWN_SERIAL'],
      [
        { ...m, body: m.body.toString().replace('"summary":"支付成功"', '"summary":"支付成功 "') },
        'BAD_SIGNATURE',
      ],
    ];
    for (const [message, code] of cases) {
      await rejectsWith(v3.readPaymentNotification(message, options), 'invalid', code);
    }
  });

  it('refuses oversized, non-JSON and wrongly shaped bodies, even when signed', async () => {
    const { options, resign } = await setup();
    await rejectsWith(
      v3.readPaymentNotification(resign(`{"id":"${'x'.repeat(70_000)}"}`), options),
      'invalid',
      'TOO_LARGE',
    );
    await rejectsWith(
      v3.readPaymentNotification(resign('<xml>SUCCESS</xml>'), options),
      'invalid',
      'NOT_JSON',
    );
    await rejectsWith(v3.readPaymentNotification(resign('[1,2]'), options), 'invalid', 'MALFORMED');
    await rejectsWith(
      v3.readPaymentNotification(resign('{"event_type":"TRANSACTION.SUCCESS"}'), options),
      'invalid',
      'MALFORMED',
    );
    await rejectsWith(v3.readPaymentNotification(resign(''), options), 'invalid', 'NOT_JSON');
  });

  it('refuses another event type at the payment endpoint, and a payment at the refund endpoint', async () => {
    const { options, build } = await setup();
    const refund = build({ eventType: 'REFUND.SUCCESS', originalType: 'refund', resource: REFUND });
    const e = await rejectsWith(
      v3.readPaymentNotification(refund, options),
      'invalid',
      'WRONG_EVENT',
    );
    assert.match(e.message, /REFUND\.SUCCESS event; this endpoint takes TRANSACTION\.SUCCESS/);
    await rejectsWith(v3.readRefundNotification(build(), options), 'invalid', 'WRONG_EVENT');
  });

  it('refuses a tampered ciphertext, tag, nonce or associated data even when re-signed, and another APIv3 key', async () => {
    const { options, build, resign } = await setup();
    const { body } = build();
    const flipped = (ciphertext: string, at: number) => {
      const b = Buffer.from(ciphertext, 'base64');
      b[at < 0 ? b.length + at : at]! ^= 1;
      return b.toString('base64');
    };
    const changes: ((r: Record<string, string>) => void)[] = [
      (r) => {
        r.ciphertext = flipped(r.ciphertext!, 20);
      },
      (r) => {
        r.ciphertext = flipped(r.ciphertext!, -3);
      },
      (r) => {
        r.nonce = `${r.nonce!.slice(0, 11)}${r.nonce!.endsWith('Q') ? 'R' : 'Q'}`;
      },
      (r) => {
        r.associated_data = 'refund';
      },
    ];
    for (const change of changes) {
      await rejectsWith(
        v3.readPaymentNotification(resign(withResource(body.toString(), change)), options),
        'invalid',
        'BAD_CIPHERTEXT',
      );
    }
    await rejectsWith(
      v3.readPaymentNotification(build({}, { apiV3Key: v3.loadApiV3Key('z'.repeat(32)) }), options),
      'invalid',
      'BAD_CIPHERTEXT',
    );
    await rejectsWith(
      v3.readPaymentNotification(
        resign(withResource(body.toString(), (r) => (r.original_type = 'refund'))),
        options,
      ),
      'invalid',
      'MALFORMED',
    );
    await rejectsWith(
      v3.readPaymentNotification(
        resign(withResource(body.toString(), (r) => (r.algorithm = 'AEAD_SM4_GCM'))),
        options,
      ),
      'invalid',
      'MALFORMED',
    );
  });

  it("refuses another merchant's, another AppID's, unpaid and malformed trades", async () => {
    const { options, build } = await setup();
    const resource = (over: object) => build({ resource: { ...TRANSACTION, ...over } });
    await rejectsWith(
      v3.readPaymentNotification(resource({ mchid: '1230000109' }), options),
      'invalid',
      'WRONG_MERCHANT',
    );
    await rejectsWith(
      v3.readPaymentNotification(resource({ appid: 'wx0000000000000000' }), options),
      'invalid',
      'WRONG_MERCHANT',
    );
    await rejectsWith(
      v3.readPaymentNotification(resource({ trade_state: 'NOTPAY' }), options),
      'invalid',
      'MALFORMED',
    );
    await rejectsWith(
      v3.readPaymentNotification(resource({ trade_state: 'PAID' }), options),
      'invalid',
      'MALFORMED',
    );
    await rejectsWith(
      v3.readPaymentNotification(resource({ amount: { total: '1999' } }), options),
      'invalid',
      'MALFORMED',
    );
    await rejectsWith(
      v3.readPaymentNotification(resource({ amount: { total: 19.99 } }), options),
      'invalid',
      'MALFORMED',
    );
    await rejectsWith(
      v3.readPaymentNotification(resource({ success_time: '2026-02-30T12:00:00+08:00' }), options),
      'invalid',
      'MALFORMED',
    );
    await rejectsWith(
      v3.readPaymentNotification(resource({ transaction_id: undefined }), options),
      'invalid',
      'MALFORMED',
    );
  });

  it('reads a replay within the window as the same notification (duplicates are the caller’s)', async () => {
    const { options, build } = await setup();
    const m = build({ id: 'EV-2018022511223320873' });
    const [a, b] = await Promise.all([
      v3.readPaymentNotification(m, options),
      v3.readPaymentNotification(m, options),
    ]);
    assert.equal(a.id, b.id);
  });
});

describe('APIv3 refund notifications', () => {
  it('reads REFUND.SUCCESS, ABNORMAL and CLOSED', async () => {
    const { options, build } = await setup();
    for (const status of ['SUCCESS', 'ABNORMAL', 'CLOSED']) {
      const n = await v3.readRefundNotification(
        build({
          eventType: `REFUND.${status}`,
          originalType: 'refund',
          resource: { ...REFUND, refund_status: status },
        }),
        options,
      );
      assert.equal(n.eventType, `REFUND.${status}`);
      assert.equal(n.resourceType, 'encrypt-resource');
      assert.equal(n.originalType, 'refund');
      assert.match(n.id, /^EV-/);
      assert.ok(n.createTime instanceof Date);
      assert.equal(n.verification.mode, 'public_key');
      assert.deepEqual(n.plaintext, { ...REFUND, refund_status: status });
      assert.equal(n.refund.refundStatus, status);
      assert.equal(n.refund.amount.refund, 500);
      assert.equal(n.refund.outRefundNo, REFUND.out_refund_no);
    }
  });

  it('refuses an event that contradicts its status, another merchant, and a missing amount', async () => {
    const { options, build } = await setup();
    const refund = (eventType: string, over: object) =>
      build({ eventType, originalType: 'refund', resource: { ...REFUND, ...over } });
    await rejectsWith(
      v3.readRefundNotification(refund('REFUND.SUCCESS', { refund_status: 'CLOSED' }), options),
      'invalid',
      'MALFORMED',
    );
    await rejectsWith(
      v3.readRefundNotification(refund('REFUND.SUCCESS', { mchid: '1230000109' }), options),
      'invalid',
      'WRONG_MERCHANT',
    );
    await rejectsWith(
      v3.readRefundNotification(refund('REFUND.SUCCESS', { amount: undefined }), options),
      'invalid',
      'MALFORMED',
    );
    await rejectsWith(
      v3.readRefundNotification(refund('REFUND.SUCCESS', { success_time: undefined }), options),
      'invalid',
      'MALFORMED',
    );
  });
});

describe('APIv3 notification replies', () => {
  it('acknowledges with 204, refuses forgeries with 401 and asks again with 500', async () => {
    assert.deepEqual(v3.notificationReply(), { status: 204, body: '' });
    const forged = v3.notificationReply(new v3.WechatPayV3Error('invalid', 'BAD_SIGNATURE', 'x'));
    assert.equal(forged.status, 401);
    assert.deepEqual(JSON.parse(forged.body), { code: 'FAIL', message: 'BAD_SIGNATURE' });
    assert.equal(v3.notificationReply(new Error('database down')).status, 500);
    assert.deepEqual([200, 204, 201, 401, 500].map(v3.isNotificationAcknowledged), [
      true,
      true,
      false,
      false,
      false,
    ]);
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { signV2 } from '../../src/wechatpay/index.js';
import { api, payParams, prepay, sandboxFor, v2 } from './support.js';

const NOTIFY = 'http://127.0.0.1:9/wechatpay/v2/notify';

describe('POST /sandbox/v1/pay: the paySign check is the real one', () => {
  test('correct parameters pay the trade (MD5 and HMAC-SHA256)', async (t) => {
    const sandbox = await sandboxFor(t);
    for (const signType of ['MD5', 'HMAC-SHA256'] as const) {
      const p = await prepay(sandbox, NOTIFY, {}, signType);
      const r = await api(sandbox, 'POST', '/sandbox/v1/pay', {
        ...payParams(sandbox, p.prepayId, { signType }),
        openid: p.openid,
      });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.tradeState, 'SUCCESS');
      assert.match(String(r.body.transactionId), /^4200[0-9]{24}$/);
      assert.equal(sandbox.trade(p.outTradeNo)!.tradeState, 'SUCCESS');
    }
  });

  const refusals: [
    string,
    (p: ReturnType<typeof payParams>) => Record<string, string>,
    number,
    string,
  ][] = [
    [
      'signed with the wrong key',
      (p) => ({ ...p, paySign: signV2({ ...p, paySign: undefined }, 'k'.repeat(32)) }),
      400,
      'PAYSIGN_INVALID',
    ],
    [
      'package changed after signing',
      (p) => ({ ...p, package: `${p.package}0` }),
      400,
      'PAYSIGN_INVALID',
    ],
    [
      'timeStamp changed after signing',
      (p) => ({ ...p, timeStamp: String(Number(p.timeStamp) + 1) }),
      400,
      'PAYSIGN_INVALID',
    ],
    [
      'nonceStr changed after signing',
      (p) => ({ ...p, nonceStr: `${p.nonceStr.slice(1)}x` }),
      400,
      'PAYSIGN_INVALID',
    ],
    [
      'paySign in lower case',
      (p) => ({ ...p, paySign: p.paySign.toLowerCase() }),
      400,
      'PAYSIGN_INVALID',
    ],
    [
      'signType claimed HMAC over an MD5 signature',
      (p) => ({ ...p, signType: 'HMAC-SHA256' }),
      400,
      'PAYSIGN_INVALID',
    ],
    ['a wrong appId (signed consistently)', (p) => p, 400, 'APPID_MISMATCH'],
    [
      'signType RSA with a v2 paySign (RSA is checked with the merchant public key)',
      (p) => ({ ...p, signType: 'RSA' }),
      400,
      'PAYSIGN_INVALID',
    ],
    ['paySign missing', (p) => ({ ...p, paySign: '' }), 400, 'VALIDATION_FAILED'],
  ];
  for (const [name, mutate, status, code] of refusals) {
    test(`${name} → ${status} ${code}, the trade stays NOTPAY`, async (t) => {
      const sandbox = await sandboxFor(t);
      const p = await prepay(sandbox, NOTIFY);
      const params = payParams(
        sandbox,
        p.prepayId,
        name.startsWith('a wrong appId') ? { appId: 'wx0000000000000bad' } : {},
      );
      const r = await api(sandbox, 'POST', '/sandbox/v1/pay', {
        ...mutate(params),
        openid: p.openid,
      });
      assert.equal(r.status, status, JSON.stringify(r.body));
      assert.equal((r.body.error as { code: string }).code, code);
      assert.equal(typeof (r.body.error as { message: string }).message, 'string');
      assert.equal(sandbox.trade(p.outTradeNo)!.tradeState, 'NOTPAY');
    });
  }

  test('a prepay signed with HMAC-SHA256 cannot be paid with MD5 parameters', async (t) => {
    const sandbox = await sandboxFor(t);
    const p = await prepay(sandbox, NOTIFY, {}, 'HMAC-SHA256');
    const r = await api(sandbox, 'POST', '/sandbox/v1/pay', {
      ...payParams(sandbox, p.prepayId),
      openid: p.openid,
    });
    assert.equal((r.body.error as { code: string }).code, 'SIGN_TYPE_MISMATCH');
  });

  test('another user cannot pay the prepay → 403 OPENID_MISMATCH', async (t) => {
    const sandbox = await sandboxFor(t);
    const p = await prepay(sandbox, NOTIFY);
    const r = await api(sandbox, 'POST', '/sandbox/v1/pay', {
      ...payParams(sandbox, p.prepayId),
      openid: 'oSomeoneElse',
    });
    assert.equal(r.status, 403);
    assert.equal(sandbox.trade(p.outTradeNo)!.tradeState, 'NOTPAY');
  });

  test('unknown prepay → 404; paid → 409 ORDER_PAID; expired prepay → 409 PREPAY_EXPIRED', async (t) => {
    const sandbox = await sandboxFor(t);
    const unknown = await api(sandbox, 'POST', '/sandbox/v1/pay', {
      ...payParams(sandbox, 'wx20260101000000aaaaaaaaaaaaaaaaaaaa'),
      openid: 'o',
    });
    assert.equal(unknown.status, 404);
    const p = await prepay(sandbox, NOTIFY);
    const params = { ...payParams(sandbox, p.prepayId), openid: p.openid };
    assert.equal((await api(sandbox, 'POST', '/sandbox/v1/pay', params)).status, 200);
    const twice = await api(sandbox, 'POST', '/sandbox/v1/pay', params);
    assert.equal(twice.status, 409);
    assert.equal((twice.body.error as { code: string }).code, 'ORDER_PAID');

    const q = await prepay(sandbox, NOTIFY);
    const expire = await api(
      sandbox,
      'POST',
      `/sandbox/v1/trades/${q.outTradeNo}/expire-prepay`,
      {},
    );
    assert.equal(expire.status, 200);
    const late = await api(sandbox, 'POST', '/sandbox/v1/pay', {
      ...payParams(sandbox, q.prepayId),
      openid: q.openid,
    });
    assert.equal((late.body.error as { code: string }).code, 'PREPAY_EXPIRED');
    // The merchant asks again with the same parameters and gets a fresh prepay_id that works.
    const fresh = await prepay(sandbox, NOTIFY, { out_trade_no: q.outTradeNo, openid: q.openid });
    assert.notEqual(fresh.prepayId, q.prepayId);
    assert.equal(
      (
        await api(sandbox, 'POST', '/sandbox/v1/pay', {
          ...payParams(sandbox, fresh.prepayId),
          openid: q.openid,
        })
      ).status,
      200,
    );
  });

  test('50 concurrent payments of one prepay: exactly one succeeds', async (t) => {
    const sandbox = await sandboxFor(t);
    const p = await prepay(sandbox, NOTIFY);
    const params = { ...payParams(sandbox, p.prepayId), openid: p.openid };
    const results = await Promise.all(
      Array.from({ length: 50 }, () => api(sandbox, 'POST', '/sandbox/v1/pay', params)),
    );
    assert.equal(results.filter((r) => r.status === 200).length, 1);
    assert.equal(results.filter((r) => r.status === 409).length, 49);
  });

  test('result PAYERROR: 402 PAYMENT_FAILED, the trade stays NOTPAY and can be paid again; USERPAYING is no JSAPI outcome', async (t) => {
    const sandbox = await sandboxFor(t);
    const q = await prepay(sandbox, NOTIFY);
    const failed = await api(sandbox, 'POST', '/sandbox/v1/pay', {
      ...payParams(sandbox, q.prepayId),
      openid: q.openid,
      result: 'PAYERROR',
    });
    assert.equal(failed.status, 402);
    assert.equal((failed.body.error as { code: string }).code, 'PAYMENT_FAILED');
    assert.equal(sandbox.trade(q.outTradeNo)!.tradeState, 'NOTPAY');
    assert.equal(sandbox.notifications().length, 0, 'no notification for a failed payment');
    const waiting = await api(sandbox, 'POST', '/sandbox/v1/pay', {
      ...payParams(sandbox, q.prepayId),
      openid: q.openid,
      result: 'USERPAYING',
    });
    assert.equal(waiting.status, 400);
    assert.equal(sandbox.trade(q.outTradeNo)!.tradeState, 'NOTPAY');
    const retry = await api(sandbox, 'POST', '/sandbox/v1/pay', {
      ...payParams(sandbox, q.prepayId),
      openid: q.openid,
    });
    assert.equal(retry.status, 200);
    assert.equal(retry.body.tradeState, 'SUCCESS');
  });

  test('paying does not change what unifiedorder answers for the same request: ORDERPAID', async (t) => {
    const sandbox = await sandboxFor(t);
    const p = await prepay(sandbox, NOTIFY, { out_trade_no: 'PAIDTWICE01', openid: 'oPayer' });
    await api(sandbox, 'POST', '/sandbox/v1/pay', {
      ...payParams(sandbox, p.prepayId),
      openid: p.openid,
    });
    const r = await v2(sandbox, '/pay/unifiedorder', {
      body: 'minipay test',
      out_trade_no: 'PAIDTWICE01',
      total_fee: 100,
      spbill_create_ip: '127.0.0.1',
      notify_url: NOTIFY,
      trade_type: 'JSAPI',
      openid: 'oPayer',
    });
    assert.equal(r.fields.err_code, 'ORDERPAID');
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { beijingCompact } from '../../src/wechatpay/index.js';
import { paidTrade, payParams, prepay, sandboxFor, v2 } from './support.js';

/** WeChat's "no closeorder within 5 minutes of the order". */
const CLOSE_MIN_AGE_MS = 5 * 60_000;

const NOTIFY = 'http://127.0.0.1:9/wechatpay/v2/notify';

function order(overrides: Record<string, string | number | undefined> = {}) {
  return {
    body: '测试商品',
    out_trade_no: 'ORDER000001',
    total_fee: 1999,
    spbill_create_ip: '127.0.0.1',
    notify_url: NOTIFY,
    trade_type: 'JSAPI',
    openid: 'oUser0000000000000000000001',
    ...overrides,
  };
}

describe('unifiedorder', () => {
  test('creates a NOTPAY trade and a prepay_id in the observed shape', async (t) => {
    const sandbox = await sandboxFor(t);
    const r = await v2(sandbox, '/pay/unifiedorder', order({ attach: '附加 <data> & more' }));
    assert.equal(r.signed, true);
    assert.equal(r.fields.result_code, 'SUCCESS');
    assert.equal(r.fields.trade_type, 'JSAPI');
    assert.match(r.fields.prepay_id ?? '', /^wx[0-9]{14}[0-9a-f]{20}$/);
    const trade = sandbox.trade('ORDER000001')!;
    assert.equal(trade.tradeState, 'NOTPAY');
    assert.equal(trade.totalFen, 1999);
    assert.equal(trade.attach, '附加 <data> & more');
    assert.equal(trade.prepayId, r.fields.prepay_id);
  });

  test('re-entry with the same parameters (new nonce, new sign) returns the same prepay_id', async (t) => {
    const sandbox = await sandboxFor(t);
    const first = await v2(sandbox, '/pay/unifiedorder', order());
    const again = await v2(sandbox, '/pay/unifiedorder', order());
    assert.equal(again.fields.result_code, 'SUCCESS');
    assert.equal(again.fields.prepay_id, first.fields.prepay_id);
    const hmac = await v2(sandbox, '/pay/unifiedorder', order(), { signType: 'HMAC-SHA256' });
    assert.equal(
      hmac.fields.prepay_id,
      first.fields.prepay_id,
      'sign_type is transport, not business',
    );
  });

  test('re-entry with any parameter changed → INVALID_REQUEST "201 商户订单号重复"', async (t) => {
    const sandbox = await sandboxFor(t);
    await v2(sandbox, '/pay/unifiedorder', order());
    for (const change of [
      { total_fee: 2000 },
      { body: 'other' },
      { attach: 'x' },
      { openid: 'oOther' },
      { notify_url: `${NOTIFY}2` },
    ]) {
      const r = await v2(sandbox, '/pay/unifiedorder', order(change));
      assert.equal(r.fields.result_code, 'FAIL', JSON.stringify(change));
      assert.equal(r.fields.err_code, 'INVALID_REQUEST');
      assert.equal(r.fields.err_code_des, '201 商户订单号重复');
      assert.equal(r.signed, true);
    }
    assert.equal(sandbox.trade('ORDER000001')!.totalFen, 1999);
  });

  test('after payment → ORDERPAID; after close → ORDERCLOSED', async (t) => {
    const sandbox = await sandboxFor(t);
    const paid = await paidTrade(sandbox, NOTIFY);
    const again = await v2(sandbox, '/pay/unifiedorder', order({ out_trade_no: paid.outTradeNo }));
    assert.equal(again.fields.err_code, 'ORDERPAID');
    await v2(sandbox, '/pay/unifiedorder', order());
    sandbox.advanceClock(CLOSE_MIN_AGE_MS);
    assert.equal(
      (await v2(sandbox, '/pay/closeorder', { out_trade_no: 'ORDER000001' })).fields.result_code,
      'SUCCESS',
    );
    const closed = await v2(sandbox, '/pay/unifiedorder', order());
    assert.equal(closed.fields.err_code, 'ORDERCLOSED');
  });

  test('an expired prepay_id is replaced on re-entry; the trade stays the same', async (t) => {
    const sandbox = await sandboxFor(t);
    const first = await v2(sandbox, '/pay/unifiedorder', order());
    sandbox.advanceClock(2 * 3600 * 1000);
    const again = await v2(sandbox, '/pay/unifiedorder', order());
    assert.equal(again.fields.result_code, 'SUCCESS');
    assert.notEqual(again.fields.prepay_id, first.fields.prepay_id);
    assert.equal(sandbox.trade('ORDER000001')!.prepayId, again.fields.prepay_id);
  });

  test('required fields: each missing one is LACK_PARAMS, nothing stored', async (t) => {
    const sandbox = await sandboxFor(t);
    const required = 'body out_trade_no total_fee spbill_create_ip notify_url trade_type openid';
    for (const name of required.split(' ')) {
      const r = await v2(sandbox, '/pay/unifiedorder', order({ [name]: undefined }));
      assert.equal(r.fields.result_code, 'FAIL', name);
      assert.equal(r.fields.err_code, 'LACK_PARAMS', name);
      assert.match(
        r.fields.err_code_des ?? '',
        name === 'openid' ? /JSAPI支付必须传openid/ : new RegExp(name),
      );
    }
    assert.equal(sandbox.trade('ORDER000001'), undefined);
  });

  test('values in the wrong format → return_code FAIL "invalid <field>", nothing stored', async (t) => {
    const sandbox = await sandboxFor(t);
    const cases: [Record<string, string | number>, string][] = [
      [{ total_fee: 0 }, 'total_fee'],
      [{ total_fee: -1 }, 'total_fee'],
      [{ total_fee: '1.5' }, 'total_fee'],
      [{ total_fee: '01' }, 'total_fee'],
      [{ total_fee: '1e3' }, 'total_fee'],
      [{ total_fee: '99999999999999' }, 'total_fee'],
      [{ out_trade_no: 'short' }, 'out_trade_no'],
      [{ out_trade_no: 'x'.repeat(33) }, 'out_trade_no'],
      [{ out_trade_no: 'has space1' }, 'out_trade_no'],
      [{ spbill_create_ip: 'localhost' }, 'spbill_create_ip'],
      [{ notify_url: 'ftp://127.0.0.1/notify' }, 'notify_url'],
      [{ notify_url: `${NOTIFY}?order=1` }, 'notify_url'],
      [{ notify_url: `http://127.0.0.1/${'n'.repeat(250)}` }, 'notify_url'],
      [{ notify_url: 'not a url' }, 'notify_url'],
      [{ trade_type: 'JSAPI2' }, 'trade_type'],
      [{ fee_type: 'USD' }, 'fee_type'],
      [{ openid: 'bad openid!' }, 'openid'],
      [{ time_expire: '2026-01-01' }, 'time_expire'],
      [{ time_expire: '20261340000000' }, 'time_expire'],
      [{ time_start: '2026' }, 'time_start'],
      [{ limit_pay: 'credit' }, 'limit_pay'],
    ];
    for (const [change, field] of cases) {
      const r = await v2(sandbox, '/pay/unifiedorder', order(change));
      assert.equal(r.fields.return_code, 'FAIL', JSON.stringify(change));
      assert.match(
        r.fields.return_msg ?? '',
        new RegExp(`^invalid ${field} \\(`),
        JSON.stringify(change),
      );
    }
    assert.equal(sandbox.trade('ORDER000001'), undefined);
  });

  test("body and attach are limited in bytes of UTF-8: 42 Chinese characters pass, 43 are refused in WeChat's words", async (t) => {
    const sandbox = await sandboxFor(t);
    const tooLong: [string, string, string, number][] = [
      ['body', '商'.repeat(43), '商品描述', 129],
      ['body', 'b'.repeat(128), '商品描述', 128],
      ['attach', '附'.repeat(43), '附加数据', 129],
    ];
    for (const [field, value, label, bytes] of tooLong) {
      const r = await v2(sandbox, '/pay/unifiedorder', order({ [field]: value }));
      assert.equal(r.fields.return_code, 'FAIL');
      assert.equal(
        r.fields.return_msg,
        `输入源“/body/xml/${field}”映射到值字段“${label}”字符串规则校验失败，字节数 ${bytes}，大于最大值 127`,
      );
    }
    assert.equal(sandbox.trade('ORDER000001'), undefined);
    const fits = order({ body: `${'商'.repeat(42)}x`, attach: '附'.repeat(42) });
    const r = await v2(sandbox, '/pay/unifiedorder', fits);
    assert.equal(r.fields.result_code, 'SUCCESS');
    assert.equal(sandbox.trade('ORDER000001')!.body, `${'商'.repeat(42)}x`);
  });

  test('NATIVE, APP and MWEB → NOAUTH (a mini program merchant)', async (t) => {
    const sandbox = await sandboxFor(t);
    for (const tradeType of ['NATIVE', 'APP', 'MWEB']) {
      const r = await v2(sandbox, '/pay/unifiedorder', order({ trade_type: tradeType }));
      assert.equal(r.fields.err_code, 'NOAUTH');
    }
  });

  test('time_expire under 5 minutes away is refused; 6 minutes is accepted and closes the trade when it passes', async (t) => {
    const sandbox = await sandboxFor(t);
    const now = Date.now();
    const short = await v2(
      sandbox,
      '/pay/unifiedorder',
      order({ time_expire: beijingCompact(new Date(now + 4 * 60_000)) }),
    );
    assert.equal(short.fields.err_code, 'INVALID_REQUEST');
    assert.equal(short.fields.err_code_des, 'time_expire时间过短，刷卡至少1分钟，其他5分钟');
    const expire = beijingCompact(new Date(now + 6 * 60_000));
    const ok = await v2(sandbox, '/pay/unifiedorder', order({ time_expire: expire }));
    assert.equal(ok.fields.result_code, 'SUCCESS');
    sandbox.advanceClock(7 * 60_000);
    const q = await v2(sandbox, '/pay/orderquery', { out_trade_no: 'ORDER000001' });
    assert.equal(q.fields.trade_state, 'CLOSED');
    const again = await v2(sandbox, '/pay/unifiedorder', order({ time_expire: expire }));
    assert.equal(again.fields.err_code, 'ORDERCLOSED');
  });
});

describe('orderquery', () => {
  test('an unpaid trade: only out_trade_no, attach, trade_state, trade_state_desc, total_fee', async (t) => {
    const sandbox = await sandboxFor(t);
    await v2(sandbox, '/pay/unifiedorder', order({ attach: 'a1' }));
    const r = await v2(sandbox, '/pay/orderquery', { out_trade_no: 'ORDER000001' });
    assert.equal(r.signed, true);
    const { sign: _s, nonce_str: _n, ...rest } = r.fields;
    assert.deepEqual(
      { ...rest },
      {
        return_code: 'SUCCESS',
        return_msg: 'OK',
        appid: sandbox.credentials.appId,
        mch_id: sandbox.credentials.mchId,
        result_code: 'SUCCESS',
        out_trade_no: 'ORDER000001',
        attach: 'a1',
        trade_state: 'NOTPAY',
        trade_state_desc: '订单未支付',
        total_fee: '1999',
      },
    );
  });

  test('a paid trade: the full field set, by out_trade_no and by transaction_id', async (t) => {
    const sandbox = await sandboxFor(t);
    const paid = await paidTrade(sandbox, NOTIFY, { total_fee: 250, attach: 'a' });
    for (const key of [{ out_trade_no: paid.outTradeNo }, { transaction_id: paid.transactionId }]) {
      const r = await v2(sandbox, '/pay/orderquery', key);
      assert.equal(r.signed, true);
      assert.equal(r.fields.trade_state, 'SUCCESS');
      assert.equal(r.fields.trade_state_desc, '支付成功');
      assert.equal(r.fields.transaction_id, paid.transactionId);
      assert.match(r.fields.transaction_id ?? '', /^4200[0-9]{24}$/);
      assert.equal(r.fields.out_trade_no, paid.outTradeNo);
      assert.equal(r.fields.total_fee, '250');
      assert.equal(r.fields.cash_fee, '250');
      assert.equal(r.fields.fee_type, 'CNY');
      assert.equal(r.fields.openid, paid.openid);
      assert.equal(r.fields.trade_type, 'JSAPI');
      assert.equal(r.fields.bank_type, 'OTHERS');
      assert.equal(r.fields.is_subscribe, 'N');
      assert.equal(r.fields.attach, 'a');
      assert.match(r.fields.time_end ?? '', /^[0-9]{14}$/);
    }
  });

  test('unknown trade → ORDERNOTEXIST; neither key → LACK_PARAMS', async (t) => {
    const sandbox = await sandboxFor(t);
    assert.equal(
      (await v2(sandbox, '/pay/orderquery', { out_trade_no: 'NOSUCHORDER' })).fields.err_code,
      'ORDERNOTEXIST',
    );
    assert.equal(
      (await v2(sandbox, '/pay/orderquery', { transaction_id: '4200000000000000000000000000' }))
        .fields.err_code,
      'ORDERNOTEXIST',
    );
    assert.equal((await v2(sandbox, '/pay/orderquery', {})).fields.err_code, 'LACK_PARAMS');
  });

  test('a mini program trade is never USERPAYING or PAYERROR: a refused payment leaves it NOTPAY', async (t) => {
    const sandbox = await sandboxFor(t);
    const p = await prepay(sandbox, NOTIFY);
    assert.throws(
      () =>
        sandbox.pay({ ...payParams(sandbox, p.prepayId), openid: p.openid, result: 'PAYERROR' }),
      { code: 'PAYMENT_FAILED', status: 402 },
    );
    const q = await v2(sandbox, '/pay/orderquery', { out_trade_no: p.outTradeNo });
    assert.equal(q.fields.trade_state, 'NOTPAY');
    const paid = sandbox.pay({ ...payParams(sandbox, p.prepayId), openid: p.openid });
    assert.equal(paid.tradeState, 'SUCCESS');
  });
});

describe('closeorder', () => {
  test('closes an unpaid trade; the trade reads CLOSED and cannot be paid', async (t) => {
    const sandbox = await sandboxFor(t);
    const p = await prepay(sandbox, NOTIFY);
    sandbox.advanceClock(CLOSE_MIN_AGE_MS);
    const r = await v2(sandbox, '/pay/closeorder', { out_trade_no: p.outTradeNo });
    assert.equal(r.signed, true);
    assert.equal(r.fields.result_code, 'SUCCESS');
    assert.equal(r.fields.result_msg, 'OK');
    assert.equal(
      (await v2(sandbox, '/pay/orderquery', { out_trade_no: p.outTradeNo })).fields.trade_state,
      'CLOSED',
    );
    assert.throws(() => sandbox.pay({ ...payParams(sandbox, p.prepayId), openid: p.openid }), {
      code: 'ORDER_CLOSED',
    });
  });

  test('closed again → ORDERCLOSED; paid → ORDERPAID; unknown → ORDERNOTEXIST; missing → LACK_PARAMS', async (t) => {
    const sandbox = await sandboxFor(t);
    const p = await prepay(sandbox, NOTIFY);
    sandbox.advanceClock(CLOSE_MIN_AGE_MS);
    await v2(sandbox, '/pay/closeorder', { out_trade_no: p.outTradeNo });
    assert.equal(
      (await v2(sandbox, '/pay/closeorder', { out_trade_no: p.outTradeNo })).fields.err_code,
      'ORDERCLOSED',
    );
    const paid = await paidTrade(sandbox, NOTIFY);
    assert.equal(
      (await v2(sandbox, '/pay/closeorder', { out_trade_no: paid.outTradeNo })).fields.err_code,
      'ORDERPAID',
    );
    assert.equal(sandbox.trade(paid.outTradeNo)!.tradeState, 'SUCCESS');
    assert.equal(
      (await v2(sandbox, '/pay/closeorder', { out_trade_no: 'NOSUCHORDER' })).fields.err_code,
      'ORDERNOTEXIST',
    );
    assert.equal((await v2(sandbox, '/pay/closeorder', {})).fields.err_code, 'LACK_PARAMS');
  });

  test("no close within 5 minutes of the order, by default: WeChat's sentence, nothing changed", async (t) => {
    const sandbox = await sandboxFor(t);
    const p = await prepay(sandbox, NOTIFY);
    sandbox.advanceClock(CLOSE_MIN_AGE_MS - 1000);
    const early = await v2(sandbox, '/pay/closeorder', { out_trade_no: p.outTradeNo });
    assert.equal(early.signed, true);
    assert.equal(early.fields.err_code, 'INVALID_REQUEST');
    assert.equal(
      early.fields.err_code_des,
      '订单生成后不能马上调用关单接口，最短调用时间间隔为5分钟',
    );
    assert.equal(sandbox.trade(p.outTradeNo)!.tradeState, 'NOTPAY');
    sandbox.advanceClock(1000);
    assert.equal(
      (await v2(sandbox, '/pay/closeorder', { out_trade_no: p.outTradeNo })).fields.result_code,
      'SUCCESS',
    );
  });

  test('the 5 minutes are WeChat time: divided by timeScale; 0 turns the rule off', async (t) => {
    const fast = await sandboxFor(t, { timeScale: 1000 });
    const a = await prepay(fast, NOTIFY);
    assert.equal(
      (await v2(fast, '/pay/closeorder', { out_trade_no: a.outTradeNo })).fields.err_code,
      'INVALID_REQUEST',
    );
    fast.advanceClock(CLOSE_MIN_AGE_MS / 1000);
    assert.equal(
      (await v2(fast, '/pay/closeorder', { out_trade_no: a.outTradeNo })).fields.result_code,
      'SUCCESS',
    );
    const off = await sandboxFor(t, { closeMinAgeMs: 0 });
    const b = await prepay(off, NOTIFY);
    assert.equal(
      (await v2(off, '/pay/closeorder', { out_trade_no: b.outTradeNo })).fields.result_code,
      'SUCCESS',
    );
  });

  test('fault closeLeavesNotpay: SUCCESS, yet the trade stays NOTPAY and can still be paid', async (t) => {
    const sandbox = await sandboxFor(t, { closeMinAgeMs: 0, faults: { closeLeavesNotpay: 1 } });
    const p = await prepay(sandbox, NOTIFY);
    const r = await v2(sandbox, '/pay/closeorder', { out_trade_no: p.outTradeNo });
    assert.equal(r.fields.result_code, 'SUCCESS');
    assert.equal(sandbox.faults().closeLeavesNotpay, 0, 'spent');
    const q = await v2(sandbox, '/pay/orderquery', { out_trade_no: p.outTradeNo });
    assert.equal(q.fields.trade_state, 'NOTPAY');
    assert.equal(
      sandbox.pay({ ...payParams(sandbox, p.prepayId), openid: p.openid }).tradeState,
      'SUCCESS',
    );
    const q2 = await v2(sandbox, '/pay/closeorder', { out_trade_no: p.outTradeNo });
    assert.equal(q2.fields.err_code, 'ORDERPAID');
  });

  test('fault omitMerchantIdsRate: closeorder SUCCESS and orderquery NOTPAY without appid and mch_id, still signed', async (t) => {
    const sandbox = await sandboxFor(t, {
      closeMinAgeMs: 0,
      faults: { omitMerchantIdsRate: { '/pay/closeorder': 1, '/pay/orderquery': 1 } },
    });
    const p = await prepay(sandbox, NOTIFY);
    const q = await v2(sandbox, '/pay/orderquery', { out_trade_no: p.outTradeNo });
    assert.equal(q.fields.trade_state, 'NOTPAY');
    const closed = await v2(sandbox, '/pay/closeorder', { out_trade_no: p.outTradeNo });
    for (const r of [q, closed]) {
      assert.equal(r.signed, true);
      assert.equal(r.fields.appid, undefined);
      assert.equal(r.fields.mch_id, undefined);
    }
    assert.equal(closed.fields.result_code, 'SUCCESS');
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { beijingCompact } from '../../src/wechatpay/index.js';
import { paidTrade, payParams, prepay, sandboxFor, v2 } from './support.js';

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
    for (const name of [
      'body',
      'out_trade_no',
      'total_fee',
      'spbill_create_ip',
      'notify_url',
      'trade_type',
      'openid',
    ]) {
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
      [{ body: 'b'.repeat(128) }, 'body'],
      [{ attach: 'a'.repeat(128) }, 'attach'],
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

  test('a body of 127 characters (CJK counted as one) is accepted', async (t) => {
    const sandbox = await sandboxFor(t);
    const r = await v2(sandbox, '/pay/unifiedorder', order({ body: '商'.repeat(127) }));
    assert.equal(r.fields.result_code, 'SUCCESS');
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

  test('trade_state USERPAYING and PAYERROR', async (t) => {
    const sandbox = await sandboxFor(t);
    const a = await prepay(sandbox, NOTIFY);
    sandbox.pay({ ...payParams(sandbox, a.prepayId), openid: a.openid, result: 'USERPAYING' });
    const q1 = await v2(sandbox, '/pay/orderquery', { out_trade_no: a.outTradeNo });
    assert.equal(q1.fields.trade_state, 'USERPAYING');
    assert.equal(q1.fields.trade_state_desc, '需要用户输入支付密码');
    const b = await prepay(sandbox, NOTIFY);
    sandbox.pay({ ...payParams(sandbox, b.prepayId), openid: b.openid, result: 'PAYERROR' });
    const q2 = await v2(sandbox, '/pay/orderquery', { out_trade_no: b.outTradeNo });
    assert.equal(q2.fields.trade_state, 'PAYERROR');
  });
});

describe('closeorder', () => {
  test('closes an unpaid trade; the trade reads CLOSED and cannot be paid', async (t) => {
    const sandbox = await sandboxFor(t);
    const p = await prepay(sandbox, NOTIFY);
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

  test('USERPAYING → TRADE_STATE_ERROR; PAYERROR can be closed', async (t) => {
    const sandbox = await sandboxFor(t);
    const a = await prepay(sandbox, NOTIFY);
    sandbox.pay({ ...payParams(sandbox, a.prepayId), openid: a.openid, result: 'USERPAYING' });
    assert.equal(
      (await v2(sandbox, '/pay/closeorder', { out_trade_no: a.outTradeNo })).fields.err_code,
      'TRADE_STATE_ERROR',
    );
    const b = await prepay(sandbox, NOTIFY);
    sandbox.pay({ ...payParams(sandbox, b.prepayId), openid: b.openid, result: 'PAYERROR' });
    assert.equal(
      (await v2(sandbox, '/pay/closeorder', { out_trade_no: b.outTradeNo })).fields.result_code,
      'SUCCESS',
    );
  });

  test('the 5-minute rule, when switched on', async (t) => {
    const sandbox = await sandboxFor(t, { closeMinAgeMs: 5 * 60_000 });
    const p = await prepay(sandbox, NOTIFY);
    const early = await v2(sandbox, '/pay/closeorder', { out_trade_no: p.outTradeNo });
    assert.equal(early.fields.err_code, 'INVALID_REQUEST');
    assert.match(early.fields.err_code_des ?? '', /最短调用时间间隔为5分钟/);
    assert.equal(sandbox.trade(p.outTradeNo)!.tradeState, 'NOTPAY');
    sandbox.advanceClock(5 * 60_000);
    assert.equal(
      (await v2(sandbox, '/pay/closeorder', { out_trade_no: p.outTradeNo })).fields.result_code,
      'SUCCESS',
    );
  });
});

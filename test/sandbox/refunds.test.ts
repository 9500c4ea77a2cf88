import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Sandbox } from '../../src/sandbox/index.js';
import { api, paidTrade, prepay, refundOf, sandboxFor, v2 } from './support.js';

const NOTIFY = 'http://127.0.0.1:9/wechatpay/v2/notify';
/** WeChat's "refunds of one order at least a minute apart". */
const REFUND_INTERVAL_MS = 60_000;

function refund(sandbox: Sandbox, fields: Record<string, string | number | undefined>) {
  return v2(sandbox, '/secapi/pay/refund', { total_fee: 1000, ...fields });
}

describe('refund', () => {
  test('accepts a refund (PROCESSING), which settles SUCCESS after refundDelayMs / timeScale', async (t) => {
    const sandbox = await sandboxFor(t, { faults: { refundDelayMs: 60_000 } });
    const paid = await paidTrade(sandbox, NOTIFY, { total_fee: 1000 });
    const r = await refundOf(sandbox, paid.outTradeNo, 'R1', 300);
    assert.equal(r.signed, true);
    assert.equal(r.fields.result_code, 'SUCCESS');
    assert.equal(r.fields.out_refund_no, 'R1');
    assert.equal(r.fields.transaction_id, paid.transactionId);
    assert.equal(r.fields.refund_fee, '300');
    assert.equal(r.fields.total_fee, '1000');
    assert.match(r.fields.refund_id ?? '', /^50[0-9]{27}$/);
    const q1 = await v2(sandbox, '/pay/refundquery', { out_refund_no: 'R1' });
    assert.equal(q1.fields.refund_status_0, 'PROCESSING');
    assert.equal(
      (await v2(sandbox, '/pay/orderquery', { out_trade_no: paid.outTradeNo })).fields.trade_state,
      'REFUND',
    );
    sandbox.advanceClock(60_000);
    const q2 = await v2(sandbox, '/pay/refundquery', { out_refund_no: 'R1' });
    assert.equal(q2.signed, true);
    assert.equal(q2.fields.refund_status_0, 'SUCCESS');
    assert.match(q2.fields.refund_success_time_0 ?? '', /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    assert.equal(q2.fields.refund_recv_accout_0, '支付用户零钱');
    assert.equal(q2.fields.refund_channel_0, 'ORIGINAL');
  });

  test('the same out_refund_no is idempotent; different amounts → REFUND_FEE_MISMATCH', async (t) => {
    const sandbox = await sandboxFor(t);
    const paid = await paidTrade(sandbox, NOTIFY, { total_fee: 1000 });
    const a = await refundOf(sandbox, paid.outTradeNo, 'R1', 1000);
    const b = await refund(sandbox, {
      transaction_id: paid.transactionId,
      out_refund_no: 'R1',
      refund_fee: 1000,
    });
    assert.equal(
      b.fields.result_code,
      'SUCCESS',
      'a retry after a full refund still answers the same refund',
    );
    assert.equal(b.fields.refund_id, a.fields.refund_id);
    const c = await refundOf(sandbox, paid.outTradeNo, 'R1', 999);
    assert.equal(c.fields.err_code, 'REFUND_FEE_MISMATCH');
    assert.equal(c.fields.err_code_des, '订单金额或退款金额与之前请求不一致,请核实后再试');
    assert.equal(sandbox.trade(paid.outTradeNo)!.refunds.length, 1);
  });

  test('refunds never exceed the paid amount; the exact remainder is accepted', async (t) => {
    const sandbox = await sandboxFor(t);
    const paid = await paidTrade(sandbox, NOTIFY, { total_fee: 1000 });
    assert.equal(
      (await refundOf(sandbox, paid.outTradeNo, 'R1', 600)).fields.result_code,
      'SUCCESS',
    );
    sandbox.advanceClock(REFUND_INTERVAL_MS);
    const over = await refundOf(sandbox, paid.outTradeNo, 'R2', 401);
    assert.equal(over.fields.err_code, 'INVALID_REQUEST');
    assert.equal(over.fields.err_code_des, 'refund_fee大于可退金额');
    assert.equal(
      (await refundOf(sandbox, paid.outTradeNo, 'R3', 400)).fields.result_code,
      'SUCCESS',
    );
    const full = await refundOf(sandbox, paid.outTradeNo, 'R4', 1);
    assert.equal(full.fields.err_code, 'ERROR');
    assert.equal(full.fields.err_code_des, '订单已全额退款');
    assert.equal(sandbox.trade(paid.outTradeNo)!.refundedFen, 1000);
  });

  test('20 concurrent refunds of 60% each: exactly one is accepted', async (t) => {
    const sandbox = await sandboxFor(t);
    const paid = await paidTrade(sandbox, NOTIFY, { total_fee: 1000 });
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        refund(sandbox, { out_trade_no: paid.outTradeNo, out_refund_no: `C${i}`, refund_fee: 600 }),
      ),
    );
    assert.equal(answers.filter((a) => a.fields.result_code === 'SUCCESS').length, 1);
    assert.equal(sandbox.trade(paid.outTradeNo)!.refundedFen, 600);
  });

  test('a REFUNDCLOSE refund gives its amount back; CHANGE keeps it', async (t) => {
    const sandbox = await sandboxFor(t, {
      faults: { refundOutcome: 'REFUNDCLOSE', refundDelayMs: 0 },
    });
    const paid = await paidTrade(sandbox, NOTIFY, { total_fee: 1000 });
    await refund(sandbox, { out_trade_no: paid.outTradeNo, out_refund_no: 'R1', refund_fee: 1000 });
    const q = await v2(sandbox, '/pay/refundquery', { out_trade_no: paid.outTradeNo });
    assert.equal(q.fields.refund_status_0, 'REFUNDCLOSE');
    assert.equal(q.fields.refund_success_time_0, undefined);
    assert.equal(
      (await v2(sandbox, '/pay/orderquery', { out_trade_no: paid.outTradeNo })).fields.trade_state,
      'SUCCESS',
    );
    await sandbox.setFaults({ refundOutcome: 'CHANGE' });
    sandbox.advanceClock(REFUND_INTERVAL_MS);
    assert.equal(
      (await refundOf(sandbox, paid.outTradeNo, 'R2', 1000)).fields.result_code,
      'SUCCESS',
    );
    assert.equal(
      (await v2(sandbox, '/pay/refundquery', { out_refund_no: 'R2' })).fields.refund_status_0,
      'CHANGE',
    );
    assert.equal(
      (await refund(sandbox, { out_trade_no: paid.outTradeNo, out_refund_no: 'R3', refund_fee: 1 }))
        .fields.err_code,
      'ERROR',
    );
  });

  test('rule refusals: unpaid, unknown, wrong total, over a year, 50 refunds, too soon (by default)', async (t) => {
    const sandbox = await sandboxFor(t);
    const unpaid = await prepay(sandbox, NOTIFY);
    assert.equal(
      (await refundOf(sandbox, unpaid.outTradeNo, 'U1', 1, 100)).fields.err_code,
      'ERROR',
    );
    assert.equal(
      (await refund(sandbox, { out_trade_no: 'NOSUCH0001', out_refund_no: 'U2', refund_fee: 1 }))
        .fields.err_code,
      'ORDERNOTEXIST',
    );
    assert.equal(
      (
        await refund(sandbox, {
          transaction_id: '4200000000000000000000000000',
          out_refund_no: 'U3',
          refund_fee: 1,
        })
      ).fields.err_code,
      'INVALID_TRANSACTIONID',
    );
    const paid = await paidTrade(sandbox, NOTIFY, { total_fee: 1000 });
    assert.equal(
      (await refundOf(sandbox, paid.outTradeNo, 'U4', 1, 999)).fields.err_code,
      'REFUND_FEE_MISMATCH',
    );
    assert.equal(
      (
        await refund(sandbox, {
          transaction_id: paid.transactionId,
          out_trade_no: unpaid.outTradeNo,
          out_refund_no: 'U5',
          refund_fee: 1,
        })
      ).fields.err_code,
      'PARAM_ERROR',
    );
    assert.equal(
      (await refund(sandbox, { out_trade_no: paid.outTradeNo, out_refund_no: 'F1', refund_fee: 1 }))
        .fields.result_code,
      'SUCCESS',
    );
    const soon = await refundOf(sandbox, paid.outTradeNo, 'F2', 1);
    assert.equal(soon.fields.err_code, 'FREQUENCY_LIMITED');
    assert.equal(soon.signed, true);
    assert.equal(sandbox.refund('F2'), undefined, 'nothing recorded: F2 can be sent again');
    sandbox.advanceClock(REFUND_INTERVAL_MS - 1000);
    assert.equal(
      (await refund(sandbox, { out_trade_no: paid.outTradeNo, out_refund_no: 'F2', refund_fee: 1 }))
        .fields.err_code,
      'FREQUENCY_LIMITED',
      'a minute of WeChat time: not yet',
    );
    sandbox.advanceClock(1000);
    assert.equal(
      (await refund(sandbox, { out_trade_no: paid.outTradeNo, out_refund_no: 'F2', refund_fee: 1 }))
        .fields.result_code,
      'SUCCESS',
      'the same out_refund_no a minute later',
    );
    for (let i = 3; i <= 50; i++) {
      sandbox.advanceClock(60_000);
      const r = await refundOf(sandbox, paid.outTradeNo, `F${i}`, 1);
      assert.equal(r.fields.result_code, 'SUCCESS', r.text);
    }
    sandbox.advanceClock(60_000);
    const fiftyFirst = await refundOf(sandbox, paid.outTradeNo, 'F51', 1);
    assert.equal(fiftyFirst.fields.err_code, 'INVALID_REQUEST');
    assert.match(fiftyFirst.fields.err_code_des ?? '', /50次/);
    const old = await paidTrade(sandbox, NOTIFY);
    sandbox.advanceClock(366 * 24 * 3600 * 1000);
    assert.equal(
      (await refundOf(sandbox, old.outTradeNo, 'O1', 1, 100)).fields.err_code,
      'TRADE_OVERDUE',
    );
  });

  test('format errors → return_code FAIL "invalid …"; missing → LACK_PARAMS; nothing stored', async (t) => {
    const sandbox = await sandboxFor(t);
    const paid = await paidTrade(sandbox, NOTIFY, { total_fee: 1000 });
    const base = { out_trade_no: paid.outTradeNo, out_refund_no: 'R1', refund_fee: 10 };
    const invalid: [Record<string, string | number>, string][] = [
      [{ refund_fee: 1001 }, 'refund_fee'],
      [{ refund_fee: 0 }, 'refund_fee'],
      [{ refund_fee: '1.5' }, 'refund_fee'],
      [{ total_fee: 'x' }, 'total_fee'],
      [{ out_refund_no: 'bad no' }, 'out_refund_no'],
      [{ out_refund_no: 'r'.repeat(65) }, 'out_refund_no'],
      [{ refund_fee_type: 'USD' }, 'refund_fee_type'],
      [{ refund_account: 'MY_POCKET' }, 'refund_account'],
      [{ notify_url: 'http://x/?a=1' }, 'notify_url'],
    ];
    for (const [change, field] of invalid) {
      const r = await refund(sandbox, { ...base, ...change });
      assert.equal(r.fields.return_code, 'FAIL', JSON.stringify(change));
      assert.match(r.fields.return_msg ?? '', new RegExp(`^invalid ${field}`));
    }
    for (const name of ['out_refund_no', 'total_fee', 'refund_fee']) {
      assert.equal(
        (await refund(sandbox, { ...base, [name]: undefined })).fields.err_code,
        'LACK_PARAMS',
        name,
      );
    }
    assert.equal(
      (await refund(sandbox, { ...base, out_trade_no: undefined })).fields.err_code,
      'LACK_PARAMS',
    );
    const desc = await refund(sandbox, { ...base, refund_desc: '退'.repeat(27) });
    assert.equal(
      desc.fields.return_msg,
      '输入源“/body/xml/refund_desc”映射到值字段“退款原因”字符串规则校验失败，字节数 81，大于最大值 80',
      'refund_desc is 80 bytes of UTF-8: 26 Chinese characters, not 80',
    );
    assert.equal(sandbox.trade(paid.outTradeNo)!.refunds.length, 0);
    const fits = await refund(sandbox, { ...base, refund_desc: '退'.repeat(26) });
    assert.equal(fits.fields.result_code, 'SUCCESS');
  });

  test('a SYSTEMERROR changes nothing; a timeout after the refund was recorded: the retry finds exactly one', async (t) => {
    const sandbox = await sandboxFor(t, {
      faults: { systemErrorRate: { '/secapi/pay/refund': 1 } },
    });
    const paid = await paidTrade(sandbox, NOTIFY, { total_fee: 1000 });
    const args = { out_trade_no: paid.outTradeNo, out_refund_no: 'R1', refund_fee: 500 };
    assert.equal((await refund(sandbox, args)).fields.err_code, 'SYSTEMERROR');
    assert.equal(sandbox.trade(paid.outTradeNo)!.refunds.length, 0);
    await sandbox.setFaults({
      systemErrorRate: { '/secapi/pay/refund': 0 },
      timeoutRate: { '/secapi/pay/refund': 1 },
      timeoutHoldMs: 20,
    });
    await assert.rejects(refund(sandbox, args));
    await sandbox.setFaults({ timeoutRate: { '/secapi/pay/refund': 0 } });
    const retry = await refund(sandbox, args);
    assert.equal(retry.fields.result_code, 'SUCCESS');
    assert.equal(sandbox.trade(paid.outTradeNo)!.refunds.length, 1);
  });
});

describe('refunds WeChat refuses for now', () => {
  test('fault errCodes NOTENOUGH ×2: result_code=FAIL twice without acting, then the same out_refund_no is accepted', async (t) => {
    const sandbox = await sandboxFor(t, {
      faults: { errCodes: { '/secapi/pay/refund': { NOTENOUGH: 2 } } },
    });
    const paid = await paidTrade(sandbox, NOTIFY, { total_fee: 1000 });
    const args = { out_trade_no: paid.outTradeNo, out_refund_no: 'N1', refund_fee: 300 };
    for (const left of [1, 0]) {
      const r = await refund(sandbox, args);
      assert.equal(r.signed, true);
      assert.equal(r.fields.result_code, 'FAIL');
      assert.equal(r.fields.err_code, 'NOTENOUGH');
      assert.match(r.fields.err_code_des ?? '', /^基本账户余额不足/);
      assert.equal(sandbox.refund('N1'), undefined, 'nothing recorded');
      assert.deepEqual(
        sandbox.faults().errCodes['/secapi/pay/refund'],
        left ? { NOTENOUGH: left } : {},
      );
    }
    const accepted = await refund(sandbox, args);
    assert.equal(accepted.fields.result_code, 'SUCCESS');
    assert.equal(sandbox.refund('N1')!.refundFen, 300);
  });

  test('refund_account is kept and answered by refundquery', async (t) => {
    const sandbox = await sandboxFor(t);
    const paid = await paidTrade(sandbox, NOTIFY, { total_fee: 1000 });
    await refund(sandbox, {
      out_trade_no: paid.outTradeNo,
      out_refund_no: 'A1',
      refund_fee: 100,
      refund_account: 'REFUND_SOURCE_RECHARGE_FUNDS',
    });
    const q = await v2(sandbox, '/pay/refundquery', { out_refund_no: 'A1' });
    assert.equal(q.fields.refund_account_0, 'REFUND_SOURCE_RECHARGE_FUNDS');
  });
});

describe('refundquery', () => {
  test('by refund_id, out_refund_no, transaction_id and out_trade_no; paging by 10', async (t) => {
    const sandbox = await sandboxFor(t, { refundIntervalMs: 0 });
    const paid = await paidTrade(sandbox, NOTIFY, { total_fee: 1000 });
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      ids.push(
        (
          await refund(sandbox, {
            out_trade_no: paid.outTradeNo,
            out_refund_no: `P${String(i).padStart(2, '0')}`,
            refund_fee: 10,
          })
        ).fields.refund_id!,
      );
    }
    const byId = await v2(sandbox, '/pay/refundquery', { refund_id: ids[3] });
    assert.equal(byId.fields.refund_count, '1');
    assert.equal(byId.fields.out_refund_no_0, 'P03');
    for (const key of [{ transaction_id: paid.transactionId }, { out_trade_no: paid.outTradeNo }]) {
      const page = await v2(sandbox, '/pay/refundquery', key);
      assert.equal(page.fields.total_refund_count, '12');
      assert.equal(page.fields.refund_count, '10');
      assert.equal(page.fields.out_refund_no_9, 'P09');
      assert.equal(page.fields.out_refund_no_10, undefined);
    }
    const second = await v2(sandbox, '/pay/refundquery', {
      out_trade_no: paid.outTradeNo,
      offset: 10,
    });
    assert.equal(second.fields.refund_count, '2');
    assert.equal(second.fields.out_refund_no_0, 'P10');
    assert.equal(
      (await v2(sandbox, '/pay/refundquery', { out_trade_no: paid.outTradeNo, offset: 12 })).fields
        .err_code,
      'PARAM_ERROR',
    );
    assert.equal(
      (
        await v2(sandbox, '/pay/refundquery', { out_trade_no: paid.outTradeNo, offset: 'x' })
      ).fields.return_msg?.startsWith('invalid offset'),
      true,
    );
  });

  test('no refund → REFUNDNOTEXIST; no key → LACK_PARAMS', async (t) => {
    const sandbox = await sandboxFor(t);
    const paid = await paidTrade(sandbox, NOTIFY);
    assert.equal(
      (await v2(sandbox, '/pay/refundquery', { out_trade_no: paid.outTradeNo })).fields.err_code,
      'REFUNDNOTEXIST',
    );
    assert.equal(
      (await v2(sandbox, '/pay/refundquery', { out_refund_no: 'NOPE' })).fields.err_code,
      'REFUNDNOTEXIST',
    );
    assert.equal((await v2(sandbox, '/pay/refundquery', {})).fields.err_code, 'LACK_PARAMS');
  });
});

describe('merchant portal refunds and settling by hand', () => {
  test('POST /sandbox/v1/trades/:no/refunds makes a VENDOR_PLATFORM refund under the same rules', async (t) => {
    const sandbox = await sandboxFor(t);
    const paid = await paidTrade(sandbox, NOTIFY, { total_fee: 1000 });
    const r = await api<{ refund: Record<string, unknown> }>(
      sandbox,
      'POST',
      `/sandbox/v1/trades/${paid.outTradeNo}/refunds`,
      { refundFen: 400, outcome: 'SUCCESS', delayMs: 0 },
    );
    assert.equal(r.status, 201);
    assert.equal(r.body.refund.source, 'VENDOR_PLATFORM');
    assert.match(String(r.body.refund.outRefundNo), /^[0-9]{21}$/);
    const over = await api(sandbox, 'POST', `/sandbox/v1/trades/${paid.outTradeNo}/refunds`, {
      refundFen: 601,
    });
    assert.equal(over.status, 422);
    assert.equal((over.body.error as { code: string }).code, 'INVALID_REQUEST');
    assert.equal(
      (await api(sandbox, 'POST', '/sandbox/v1/trades/NOSUCH/refunds', { refundFen: 1 })).status,
      404,
    );
    for (const body of [
      {},
      { refundFen: 0 },
      { refundFen: 1.5 },
      { refundFen: 1, outcome: 'LATER' },
      { refundFen: 1, notifyUrl: 'ftp://x' },
      { refundFen: 1, extra: 1 },
    ]) {
      assert.equal(
        (await api(sandbox, 'POST', `/sandbox/v1/trades/${paid.outTradeNo}/refunds`, body)).status,
        400,
        JSON.stringify(body),
      );
    }
    const q = await v2(sandbox, '/pay/refundquery', {
      out_refund_no: String(r.body.refund.outRefundNo),
    });
    assert.equal(q.fields.refund_status_0, 'SUCCESS');
  });

  test('POST /sandbox/v1/refunds/:no/settle chooses the outcome now; a settled refund → 409', async (t) => {
    const sandbox = await sandboxFor(t, { faults: { refundDelayMs: 3_600_000 } });
    const paid = await paidTrade(sandbox, NOTIFY, { total_fee: 1000 });
    await refund(sandbox, { out_trade_no: paid.outTradeNo, out_refund_no: 'S1', refund_fee: 100 });
    const settled = await api<{ refund: Record<string, unknown> }>(
      sandbox,
      'POST',
      '/sandbox/v1/refunds/S1/settle',
      { status: 'CHANGE' },
    );
    assert.equal(settled.status, 200);
    assert.equal(settled.body.refund.status, 'CHANGE');
    assert.equal((await api(sandbox, 'POST', '/sandbox/v1/refunds/S1/settle', {})).status, 409);
    assert.equal((await api(sandbox, 'POST', '/sandbox/v1/refunds/NOPE/settle', {})).status, 404);
    assert.equal((await api(sandbox, 'GET', '/sandbox/v1/refunds/S1')).status, 200);
  });
});

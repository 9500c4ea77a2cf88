import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BillFormatError, type BillRow, formatBill, parseBill } from '../../src/wechatpay/index.js';

const ALL_HEADER =
  '交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注';
const SUMMARY_HEADER =
  '总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额';
// A real ALL bill (docs/wechat-rules.md, "Bills exist only for past days"): a payment, then
// its refund.
const REAL = [
  ALL_HEADER,
  '`2024-01-16 22:43:59,`wx9dfe38480f030e85,`1627859777,`0,`,`4200002086202401160745964084,`1747268229775183872,`o2RW45oGxo1Z8Fhcf6Oy9rMM7aT8,`NATIVE,`SUCCESS,`OTHERS,`CNY,`0.02,`0.00,`0,`0,`0.00,`0.00,`,`,`测试支付4,`,`0.00000,`0.90%,`0.02,`0.00,`',
  '`2024-01-16 22:45:16,`wx9dfe38480f030e85,`1627859777,`0,`,`4200002086202401160745964084,`1747268229775183872,`o2RW45oGxo1Z8Fhcf6Oy9rMM7aT8,`NATIVE,`REFUND,`OTHERS,`CNY,`0.00,`0.00,`50303108562024011601487282563,`R1747268742516264960,`0.01,`0.00,`ORIGINAL,`SUCCESS,`测试支付4,`,`0.00000,`0.90%,`0.00,`0.01,`',
  SUMMARY_HEADER,
  '`2,`0.02,`0.01,`0.00,`0.00000,`0.02,`0.01',
].join('\n');

describe('bills: parseBill', () => {
  it('reads a real-format ALL bill into typed rows (fen, Beijing time)', () => {
    const bill = parseBill(`\uFEFF${REAL}\n\n`);
    assert.equal(bill.type, 'ALL');
    assert.equal(bill.rows.length, 2);
    const [paid, refund] = bill.rows as [BillRow, BillRow];
    assert.equal(paid.tradeTime.toISOString(), '2024-01-16T14:43:59.000Z');
    assert.equal(paid.settlementFen, 2);
    assert.equal(paid.refundId, undefined);
    assert.equal(paid.refundType, undefined);
    assert.equal(paid.productName, '测试支付4');
    assert.equal(paid.rate, '0.90%');
    assert.equal(refund.tradeState, 'REFUND');
    assert.equal(refund.refundId, '50303108562024011601487282563');
    assert.equal(refund.outRefundNo, 'R1747268742516264960');
    assert.equal(refund.refundFen, 1);
    assert.equal(refund.requestedRefundFen, 1);
    assert.deepEqual(bill.summary, {
      tradeCount: 2,
      settlementFen: 2,
      refundFen: 1,
      couponRefundFen: 0,
      feeMilliFen: 0,
      orderFen: 2,
      requestedRefundFen: 1,
    });
  });

  it('refuses a bill that is not in the format, saying where', () => {
    const lines = REAL.split('\n');
    const bad = (replace: (l: string[]) => void, message: RegExp) => {
      const copy = [...lines];
      replace(copy);
      assert.throws(
        () => parseBill(copy.join('\n')),
        (e: unknown) => e instanceof BillFormatError && message.test(e.message),
      );
    };
    bad((l) => {
      l[0] = '交易时间,商户号';
    }, /unknown bill header/);
    bad((l) => {
      l[1] = l[1]!.replace('`0.02,`0.00,`0,', '`0.2,`0.00,`0,');
    }, /line 2, 应结订单金额/);
    bad((l) => {
      l[1] = l[1]!.replace('`0.02,`0.00,`0,', '`1e2,`0.00,`0,');
    }, /line 2, 应结订单金额/);
    bad((l) => {
      l[2] = l[2]!.replace('`ORIGINAL,', '');
    }, /line 3: 26 fields, expected 27/);
    bad((l) => {
      l[1] = l[1]!.replace('`2024-01-16 22:43:59', '`2024-02-30 22:43:59');
    }, /line 2, 交易时间/);
    bad((l) => {
      l.splice(3, 1);
    }, /summary header/);
    bad((l) => {
      l[4] = '`x,`0.02,`0.01,`0.00,`0.00000,`0.02,`0.01';
    }, /not a count/);
    assert.throws(() => parseBill(''), BillFormatError);
  });
});

describe('bills: formatBill', () => {
  it('round-trips through parseBill and sums the summary', () => {
    const parsed = parseBill(REAL);
    const text = formatBill('ALL', parsed.rows);
    const again = parseBill(text);
    assert.deepEqual(again.rows, parsed.rows);
    assert.deepEqual(again.summary, parsed.summary);
    assert.ok(text.split('\r\n')[1]!.endsWith('`0.02,`0.00,`'));
    assert.ok(text.includes('`0,`0,`0.00,`0.00,`,`,'), 'trade rows carry 0 refund numbers');
  });

  it('writes each type with its own columns; values cannot break the row', () => {
    const [row] = parseBill(REAL).rows as [BillRow];
    const tricky = { ...row, productName: 'a,`b\nc', attach: '`x' };
    for (const type of ['ALL', 'SUCCESS', 'REFUND'] as const) {
      const back = parseBill(formatBill(type, [tricky]));
      assert.equal(back.type, type);
      assert.equal(back.rows[0]!.productName, "a,'b c");
      assert.equal(back.rows[0]!.attach, "'x");
      assert.equal(back.rows[0]!.settlementFen, 2);
    }
    const empty = parseBill(formatBill('SUCCESS', []));
    assert.deepEqual(empty.rows, []);
    assert.equal(empty.summary.tradeCount, 0);
  });
});

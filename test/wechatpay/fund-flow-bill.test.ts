/**
 * Fund-flow bills: WeChat's documented example, the summary check (income and expense sides),
 * streaming and gzip, hostile values (docs/wechat-rules.md, "Fund-flow bills").
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import {
  BillSummaryMismatchError,
  type FundFlowRow,
  formatFundFlowBill,
  parseFundFlowBill,
  readFundFlowBill,
} from '../../src/wechatpay/index.js';
import { billFails, readAll, splitAt } from './bill-support.js';

const HEADER =
  '记账时间,微信支付业务单号,资金流水单号,业务名称,业务类型,收支类型,收支金额(元),账户结余(元),资金变更提交申请人,备注,业务凭证号';
const SUMMARY_HEADER = '资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额';
// WeChat's example row (docs/wechat-rules.md): a refund paid out of the Basic account.
const EXAMPLE_ROW =
  '`2018-02-01 04:21:23,`50000305742018020103387128253,`1900009231201802015884652186,`退款,`退款,`支出,`0.02,`0.17,`system,`缺货,`REF4200000068201801293084726067';
const INCOME_ROW =
  '`2018-02-01 03:10:00,`4200000068201801293084726067,`1900009231201802015884650001,`交易,`交易,`收入,`0.19,`0.19,`system,`,`T20180201000001';
const bill = (...lines: string[]) => [HEADER, ...lines].join('\r\n');

describe('fund-flow bills', () => {
  it("WeChat's own example (one row under a summary of 20) is refused: the summary does not add up", () => {
    const example = bill(EXAMPLE_ROW, SUMMARY_HEADER, '`20.0,`17.0,`0.35,`3.0,`0.18');
    assert.throws(
      () => parseFundFlowBill(example),
      (e) =>
        e instanceof BillSummaryMismatchError &&
        e.column === '资金流水总笔数' &&
        e.stated === 20 &&
        e.computed === 1 &&
        e.line === 4,
    );
  });

  it('reads rows in fen with their direction; counts written 2.0 are counts', async () => {
    const text = bill(INCOME_ROW, EXAMPLE_ROW, SUMMARY_HEADER, '`2.0,`1.0,`0.19,`1.0,`0.02');
    const parsed = parseFundFlowBill(text);
    const [income, expense] = parsed.rows as [FundFlowRow, FundFlowRow];
    assert.equal(income.direction, 'income');
    assert.equal(income.amountFen, 19);
    assert.equal(income.note, '');
    assert.equal(expense.direction, 'expense');
    assert.equal(expense.amountFen, 2);
    assert.equal(expense.balanceFen, 17);
    assert.equal(expense.bookedAt.toISOString(), '2018-01-31T20:21:23.000Z');
    assert.equal(expense.businessNo, '50000305742018020103387128253');
    assert.equal(expense.voucherNo, 'REF4200000068201801293084726067');
    assert.equal(expense.note, '缺货');
    assert.deepEqual(parsed.summary, {
      count: 2,
      incomeCount: 1,
      incomeFen: 19,
      expenseCount: 1,
      expenseFen: 2,
    });
    const gz = gzipSync(`\uFEFF${text}`);
    for (let at = 0; at <= gz.length; at += 7) {
      const reader = readFundFlowBill(splitAt(gz, at));
      assert.deepEqual(await readAll(reader), parsed.rows);
      assert.deepEqual(reader.summary, parsed.summary);
    }
  });

  it('formatFundFlowBill writes what parseFundFlowBill reads, with WeChat-style counts', () => {
    const rows = parseFundFlowBill(
      bill(INCOME_ROW, EXAMPLE_ROW, SUMMARY_HEADER, '`2,`1,`0.19,`1,`0.02'),
    ).rows;
    const text = formatFundFlowBill(rows);
    assert.ok(text.endsWith(`${SUMMARY_HEADER}\r\n\`2.0,\`1.0,\`0.19,\`1.0,\`0.02\r\n`), text);
    assert.deepEqual(parseFundFlowBill(text).rows, rows);
  });

  const summary = `${SUMMARY_HEADER}\r\n\`1,\`0,\`0.00,\`1,\`0.02`;
  const hostile: [string, string, string, number | undefined, RegExp][] = [
    [
      'a direction that is neither',
      EXAMPLE_ROW.replace('`支出', '`其他'),
      'BAD_VALUE',
      2,
      /收支类型/,
    ],
    ['a negative amount', EXAMPLE_ROW.replace('`0.02,', '`-0.02,'), 'BAD_VALUE', 2, /收支金额/],
    [
      'an amount in 3 decimals',
      EXAMPLE_ROW.replace('`0.02,', '`0.020,'),
      'BAD_VALUE',
      2,
      /收支金额/,
    ],
    ['a field too many', `${EXAMPLE_ROW},\`x`, 'FIELD_COUNT', 2, /12 fields, expected 11/],
  ];
  for (const [name, row, code, line, message] of hostile) {
    it(`${name} → ${code}`, async () => {
      const text = bill(row, summary);
      assert.throws(() => parseFundFlowBill(text), billFails(code, line, message));
      await assert.rejects(
        readAll(readFundFlowBill([gzipSync(text)])),
        billFails(code, line, message),
      );
    });
  }

  it('a count with a fraction, a trade bill, a summary of another bill → typed errors', () => {
    const half = bill(EXAMPLE_ROW, SUMMARY_HEADER, '`1.5,`0,`0.00,`1,`0.02');
    assert.throws(() => parseFundFlowBill(half), billFails('BAD_VALUE', 4, /资金流水总笔数/));
    const trade = '交易时间,公众账号ID,商户号\r\n`2018-02-01 04:21:23,`wx1,`1900';
    assert.throws(() => parseFundFlowBill(trade), billFails('BAD_HEADER', 1, /fund-flow bill/));
    const other = bill(EXAMPLE_ROW, '总交易单数,应结订单总金额', '`1,`0.02');
    assert.throws(() => parseFundFlowBill(other), billFails('BAD_LAYOUT', 3, /summary header/));
  });
});

/**
 * Trade bills: the real bill's shape, streaming over every chunk boundary, gzip, the summary
 * check, and hostile input refused with a typed error and its line (docs/wechat-rules.md,
 * "Trade bills").
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import {
  BILL_COLUMNS,
  BillFormatError,
  type BillRow,
  type BillSummary,
  BillSummaryMismatchError,
  formatBill,
  parseBill,
  readTradeBill,
} from '../../src/wechatpay/index.js';
import { billFails, readAll, splitAt } from './bill-support.js';

const ALL_HEADER = BILL_COLUMNS.ALL.join(',');
const SUMMARY_HEADER =
  '总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额';
// A real ALL bill (docs/wechat-rules.md, "Trade bills"): a payment and two refunds of it, as
// WeChat sent it: a BOM, LF line ends, no line end after the summary.
const REAL_LINES = [
  ALL_HEADER,
  '`2024-01-16 22:43:59,`wx9dfe38480f030e85,`1627859777,`0,`,`4200002086202401160745964084,`1747268229775183872,`o2RW45oGxo1Z8Fhcf6Oy9rMM7aT8,`NATIVE,`SUCCESS,`OTHERS,`CNY,`0.02,`0.00,`0,`0,`0.00,`0.00,`,`,`测试支付4,`,`0.00000,`0.90%,`0.02,`0.00,`',
  '`2024-01-16 22:45:16,`wx9dfe38480f030e85,`1627859777,`0,`,`4200002086202401160745964084,`1747268229775183872,`o2RW45oGxo1Z8Fhcf6Oy9rMM7aT8,`NATIVE,`REFUND,`OTHERS,`CNY,`0.00,`0.00,`50303108562024011601487282563,`R1747268742516264960,`0.01,`0.00,`ORIGINAL,`SUCCESS,`测试支付4,`,`0.00000,`0.90%,`0.00,`0.01,`',
  '`2024-01-16 23:10:18,`wx9dfe38480f030e85,`1627859777,`0,`,`4200002086202401160745964084,`1747268229775183872,`o2RW45oGxo1Z8Fhcf6Oy9rMM7aT8,`NATIVE,`REFUND,`OTHERS,`CNY,`0.00,`0.00,`50303108562024011683774350275,`R1747275041228390400,`0.01,`0.00,`ORIGINAL,`SUCCESS,`测试支付4,`,`0.00000,`0.90%,`0.00,`0.01,`',
  SUMMARY_HEADER,
  '`3,`0.02,`0.02,`0.00,`0.00000,`0.02,`0.02',
];
const REAL = `\uFEFF${REAL_LINES.join('\n')}`;
const REAL_SUMMARY: BillSummary = {
  tradeCount: 3,
  settlementFen: 2,
  refundFen: 2,
  couponRefundFen: 0,
  feeMilliFen: 0,
  orderFen: 2,
  requestedRefundFen: 2,
};

describe('trade bills: the real bill', () => {
  it('reads into typed rows: fen, Beijing time, refund numbers only on refund rows', () => {
    const bill = parseBill(REAL);
    assert.equal(bill.type, 'ALL');
    assert.equal(bill.rows.length, 3);
    const [paid, refund, second] = bill.rows as [BillRow, BillRow, BillRow];
    assert.equal(paid.tradeTime.toISOString(), '2024-01-16T14:43:59.000Z');
    assert.equal(paid.settlementFen, 2);
    assert.equal(paid.orderFen, 2);
    assert.equal(paid.refundId, undefined);
    assert.equal(paid.outRefundNo, undefined);
    assert.equal(paid.refundType, undefined);
    assert.equal(paid.productName, '测试支付4');
    assert.equal(paid.rate, '0.90%');
    assert.equal(refund.tradeState, 'REFUND');
    assert.equal(refund.refundId, '50303108562024011601487282563');
    assert.equal(refund.outRefundNo, 'R1747268742516264960');
    assert.equal(refund.outTradeNo, paid.outTradeNo);
    assert.equal(refund.refundFen, 1);
    assert.equal(refund.requestedRefundFen, 1);
    assert.equal(refund.settlementFen, 0);
    assert.equal(second.tradeTime.toISOString(), '2024-01-16T15:10:18.000Z');
    assert.deepEqual(bill.summary, REAL_SUMMARY);
  });

  it('streams the same rows and summary from bytes, plain or gzip, with a digest', async () => {
    for (const bytes of [Buffer.from(REAL), gzipSync(REAL)]) {
      const reader = readTradeBill([bytes], { hash: 'sha256' });
      const rows = await readAll(reader);
      assert.deepEqual(rows, parseBill(REAL).rows);
      assert.equal(reader.type, 'ALL');
      assert.deepEqual(reader.summary, REAL_SUMMARY);
      assert.equal(reader.lines.gzipped, bytes[0] === 0x1f);
      assert.match(reader.digest!, /^[0-9a-f]{64}$/);
    }
  });
});

describe('trade bills: streaming over chunk boundaries', () => {
  const expected = parseBill(REAL);
  const crlf = Buffer.from(`\uFEFF${REAL_LINES.join('\r\n')}\r\n`);

  it('cuts lines right wherever a chunk ends: every byte position, plain and CRLF', async () => {
    for (const bytes of [Buffer.from(REAL), crlf]) {
      for (let at = 0; at <= bytes.length; at++) {
        const reader = readTradeBill(splitAt(bytes, at));
        assert.deepEqual(await readAll(reader), expected.rows, `split at ${at}`);
        assert.deepEqual(reader.summary, expected.summary);
      }
    }
  });

  it('gunzips across every byte position of the gzip stream, and byte by byte', async () => {
    const gz = gzipSync(crlf);
    for (let at = 0; at <= gz.length; at++) {
      assert.deepEqual(await readAll(readTradeBill(splitAt(gz, at))), expected.rows, `at ${at}`);
    }
    const bytes = [...gz].map((b) => Uint8Array.of(b));
    assert.deepEqual(await readAll(readTradeBill(bytes)), expected.rows);
  });

  it('reads a Node stream and a web ReadableStream', async () => {
    const node = Readable.from([gzipSync(REAL)]);
    assert.deepEqual(await readAll(readTradeBill(node)), expected.rows);
    const web = new Blob([REAL]).stream();
    assert.deepEqual(await readAll(readTradeBill(web)), expected.rows);
  });

  it('passes an error of the source through unchanged, and reads once', async () => {
    const failure = new Error('hash mismatch');
    async function* failing() {
      yield Buffer.from(REAL.slice(0, 400));
      throw failure;
    }
    await assert.rejects(readAll(readTradeBill(failing())), (err) => err === failure);
    const reader = readTradeBill([Buffer.from(REAL)]);
    await readAll(reader);
    await assert.rejects(readAll(reader), /read once/);
  });
});

describe('trade bills: hostile input is refused with its code and line', () => {
  const lines = () => [...REAL_LINES];
  const text = (l: string[]) => l.join('\n');
  const cases: [string, string | Buffer, string, number | undefined, RegExp][] = [
    [
      'an unknown header',
      text(['交易时间,商户号', ...lines().slice(1)]),
      'BAD_HEADER',
      1,
      /no 公众账号ID/,
    ],
    [
      'the pre-2018 format (总金额 instead of 应结订单金额)',
      text([ALL_HEADER.replace('应结订单金额', '总金额'), ...lines().slice(1)]),
      'BAD_HEADER',
      1,
      /no 应结订单金额/,
    ],
    [
      'a column named twice',
      text([`${ALL_HEADER},商户号`, ...lines().slice(1)]),
      'BAD_HEADER',
      1,
      /twice/,
    ],
    [
      'refund columns without 申请退款金额',
      text([ALL_HEADER.replace(',申请退款金额', ''), ...lines().slice(1)]),
      'BAD_HEADER',
      1,
      /no 申请退款金额/,
    ],
    [
      'a field missing',
      edit(2, (l) => l.replace('`ORIGINAL,', '')),
      'FIELD_COUNT',
      3,
      /26 fields, expected 27/,
    ],
    [
      'a value holding ",`"',
      edit(1, (l) => l.replace('测试支付4', 'a,`b')),
      'FIELD_COUNT',
      2,
      /28 fields/,
    ],
    [
      'one decimal',
      edit(1, (l) => l.replace('`0.02,`0.00,`0,', '`0.2,`0.00,`0,')),
      'BAD_VALUE',
      2,
      /应结订单金额/,
    ],
    [
      'an exponent',
      edit(1, (l) => l.replace('`0.02,`0.00,`0,', '`1e2,`0.00,`0,')),
      'BAD_VALUE',
      2,
      /应结订单金额/,
    ],
    [
      'a space',
      edit(1, (l) => l.replace('`0.02,`0.00,`0,', '` 0.02,`0.00,`0,')),
      'BAD_VALUE',
      2,
      /应结订单金额/,
    ],
    [
      'a fee with 2 decimals',
      edit(1, (l) => l.replace('`0.00000,', '`0.00,')),
      'BAD_VALUE',
      2,
      /手续费/,
    ],
    [
      'a leading zero',
      edit(3, (l) => l.replace('`0.01,`0.00,`ORIGINAL', '`00.01,`0.00,`ORIGINAL')),
      'BAD_VALUE',
      4,
      /退款金额/,
    ],
    [
      'a day that does not exist',
      edit(1, (l) => l.replace('2024-01-16 22:43:59', '2024-02-30 22:43:59')),
      'BAD_VALUE',
      2,
      /交易时间/,
    ],
    ['a row without its backtick', edit(2, (l) => l.slice(1)), 'BAD_LAYOUT', 3, /neither a row/],
    [
      'no summary header (the summary is read as a row)',
      text(lines().filter((_, i) => i !== 4)),
      'FIELD_COUNT',
      5,
      /7 fields, expected 27/,
    ],
    [
      'an unknown summary column',
      edit(4, (l) => l.replace('订单总金额', '订单总额')),
      'BAD_LAYOUT',
      5,
      /summary header/,
    ],
    [
      'a summary with a field missing',
      edit(5, (l) => l.replace(',`0.02', '')),
      'FIELD_COUNT',
      6,
      /6 fields, expected 7/,
    ],
    [
      'a count that is not one',
      edit(5, (l) => l.replace('`3,', '`x,')),
      'BAD_VALUE',
      6,
      /总交易单数: not a count/,
    ],
    ['text after the summary', `${REAL}\nextra`, 'BAD_LAYOUT', 7, /after the summary/],
    ['a second summary', `${REAL}\n${REAL_LINES[5]}`, 'BAD_LAYOUT', 7, /after the summary/],
    [
      'a bill cut before its summary',
      text(lines().slice(0, 3)),
      'TRUNCATED',
      undefined,
      /ends before its summary/,
    ],
    ['nothing', '', 'TRUNCATED', undefined, /empty/],
    ['only blank lines', '\r\n\n\r\n', 'TRUNCATED', undefined, /empty/],
    [
      'GBK, not UTF-8',
      Buffer.concat([
        Buffer.from(`${text(lines().slice(0, 2))}\n`),
        Buffer.from([0xb2, 0xe2, 0x0a]),
      ]),
      'NOT_UTF8',
      3,
      /UTF-8/,
    ],
    [
      'a lone surrogate half',
      Buffer.concat([Buffer.from(`${REAL_LINES[0]}\n`), Buffer.from([0xed, 0xa0, 0x80])]),
      'NOT_UTF8',
      2,
      /UTF-8/,
    ],
  ];
  function edit(index: number, change: (line: string) => string): string {
    const copy = lines();
    copy[index] = change(copy[index]!);
    return text(copy);
  }

  for (const [name, input, code, line, message] of cases) {
    it(`${name} → ${code}${line ? ` at line ${line}` : ''}`, async () => {
      const bytes = Buffer.from(input);
      const check = billFails(code, line, message);
      assert.throws(
        () => parseBill(bytes.toString('utf8')),
        (e) => code === 'NOT_UTF8' || check(e),
      );
      await assert.rejects(readAll(readTradeBill([bytes])), check);
      await assert.rejects(readAll(readTradeBill([gzipSync(bytes)])), check);
    });
  }

  it('a line longer than maxLineBytes, with or without its line end, and a huge bill', async () => {
    const long = Buffer.from(`${REAL_LINES[0]}\n\`${'9'.repeat(70_000)}\n`);
    await assert.rejects(readAll(readTradeBill([long])), billFails('LINE_TOO_LONG', 2, /65536/));
    const endless = (function* () {
      yield Buffer.from(`${REAL_LINES[0]}\n`);
      for (;;) yield Buffer.alloc(4096, 0x61);
    })();
    await assert.rejects(readAll(readTradeBill(endless)), billFails('LINE_TOO_LONG', 2, /65536/));
    const small = readTradeBill([Buffer.from(REAL)], { maxLineBytes: 100 });
    await assert.rejects(readAll(small), billFails('LINE_TOO_LONG', 1, /100 bytes/));
    const big = readTradeBill([gzipSync(REAL)], { maxBytes: 600 });
    await assert.rejects(readAll(big), billFails('TOO_LARGE', undefined, /600 bytes/));
  });

  it('a truncated or corrupt gzip stream → BAD_GZIP, never a short bill', async () => {
    const gz = gzipSync(REAL);
    for (const cut of [gz.length - 1, gz.length - 8, Math.floor(gz.length / 2), 12]) {
      await assert.rejects(
        readAll(readTradeBill([gz.subarray(0, cut)])),
        billFails('BAD_GZIP', undefined, /truncated or corrupt/),
        `cut at ${cut}`,
      );
    }
    const corrupt = Buffer.from(gz);
    corrupt[30] = corrupt[30]! ^ 0xff;
    await assert.rejects(readAll(readTradeBill([corrupt])), billFails('BAD_GZIP', undefined, /./));
  });
});

describe('trade bills: the summary is checked against the rows', () => {
  const stated = (summary: string) => [...REAL_LINES.slice(0, 5), summary].join('\n');
  const lies: [string, string, string, number, number][] = [
    ['a row more', '`4,`0.02,`0.02,`0.00,`0.00000,`0.02,`0.02', '总交易单数', 4, 3],
    ['a fen more settled', '`3,`0.03,`0.02,`0.00,`0.00000,`0.02,`0.02', '应结订单总金额', 3, 2],
    ['less refunded', '`3,`0.02,`0.01,`0.00,`0.00000,`0.02,`0.02', '退款总金额', 1, 2],
    ['a coupon refund', '`3,`0.02,`0.02,`0.01,`0.00000,`0.02,`0.02', '充值券退款总金额', 1, 0],
    ['a fee', '`3,`0.02,`0.02,`0.00,`0.00001,`0.02,`0.02', '手续费总金额', 1, 0],
    ['another order total', '`3,`0.02,`0.02,`0.00,`0.00000,`-0.02,`0.02', '订单总金额', -2, 2],
    ['more asked back', '`3,`0.02,`0.02,`0.00,`0.00000,`0.02,`1.02', '申请退款总金额', 102, 2],
  ];
  for (const [name, summary, column, statedValue, computed] of lies) {
    it(`a summary that lies (${name}) → SUMMARY_MISMATCH on ${column}`, async () => {
      const check = (err: unknown) => {
        assert.ok(err instanceof BillSummaryMismatchError, String(err));
        assert.ok(err instanceof BillFormatError);
        assert.equal(err.code, 'SUMMARY_MISMATCH');
        assert.equal(err.line, 6);
        assert.deepEqual([err.column, err.stated, err.computed], [column, statedValue, computed]);
        return true;
      };
      assert.throws(() => parseBill(stated(summary)), check);
      const reader = readTradeBill([gzipSync(stated(summary))]);
      await assert.rejects(readAll(reader), check);
      assert.equal(reader.summary, undefined, 'no summary for a bill that failed');
    });
  }

  it('a SUCCESS bill states 4 totals (as WeChat documents); 7 are accepted too', () => {
    const payment = parseBill(REAL).rows[0]!;
    const text = formatBill('SUCCESS', [
      payment,
      { ...payment, outTradeNo: 'T2', feeMilliFen: 40 },
    ]);
    const lines = text.trimEnd().split('\r\n');
    assert.equal(lines.at(-2), '总交易单数,应结订单总金额,手续费总金额,订单总金额');
    assert.equal(lines.at(-1), '`2,`0.04,`0.00040,`0.04');
    assert.equal(parseBill(text).summary.feeMilliFen, 40);
    const seven = [
      ...lines.slice(0, -2),
      SUMMARY_HEADER,
      '`2,`0.04,`0.00,`0.00,`0.00040,`0.04,`0.00',
    ];
    assert.equal(parseBill(seven.join('\n')).type, 'SUCCESS');
    const lying = [...lines.slice(0, -1), '`2,`0.04,`0.00041,`0.04'];
    assert.throws(() => parseBill(lying.join('\n')), BillSummaryMismatchError);
  });
});

describe('trade bills: columns by name', () => {
  it('reads columns in another order and skips (and lists) a column it does not know', async () => {
    const header = REAL_LINES[0]!.split(',');
    const order = header.map((_, i) => i).reverse();
    const shuffle = (line: string, sep: string) => {
      const fields = line.replace(/^`/, '').split(sep);
      return (sep === ',`' ? '`' : '') + order.map((i) => fields[i]).join(sep);
    };
    const reordered = [
      `${shuffle(header.join(','), ',')},优惠ID`,
      ...REAL_LINES.slice(1, 4).map((l) => `${shuffle(l, ',`')},\`coupon-1`),
      ...REAL_LINES.slice(4),
    ].join('\n');
    const reader = readTradeBill([Buffer.from(reordered)]);
    assert.deepEqual(await readAll(reader), parseBill(REAL).rows);
    assert.deepEqual(reader.unknownColumns, ['优惠ID']);
    assert.deepEqual(reader.summary, REAL_SUMMARY);
  });
});

describe('trade bills: formatBill', () => {
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

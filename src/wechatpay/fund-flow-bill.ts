/**
 * The fund-flow bill (资金账单): APIv2 `/pay/downloadfundflow` and the file of APIv3's
 * `/v3/bill/fundflowbill`, one format (docs/wechat-rules.md, "Fund-flow bills"): every movement
 * of one account's balance (Basic, Operation or Fees) on one day. Amounts are yuan with 2
 * decimals (fen here); the summary counts rows, income rows and expense rows, and sums each
 * side; its counts are written `20.0` in WeChat's example, which is accepted.
 */
import { type BillReadOptions, type BillSource, textLines } from './bill-lines.js';
import {
  type BillCodec,
  type BillColumn,
  BillReader,
  BillTable,
  type BillTableFormat,
  billCodecs,
  billHeaderLine,
  billValuesLine,
} from './bill-table.js';

export type FundFlowAccount = 'Basic' | 'Operation' | 'Fees';

/** One movement of the account's balance. Money in fen. */
export interface FundFlowRow {
  /** 记账时间: when the balance moved. */
  bookedAt: Date;
  /** 微信支付业务单号: WeChat's number of the business (a transaction_id, a refund_id, ...). */
  businessNo: string;
  /** 资金流水单号. */
  flowNo: string;
  /** 业务名称 (交易, 退款, ...) and 业务类型 (交易, 扣除交易手续费, ...): WeChat may add names. */
  businessName: string;
  businessType: string;
  /** 收支类型: 收入 (income) or 支出 (expense). */
  direction: 'income' | 'expense';
  /** 收支金额(元), never negative: `direction` says which way. */
  amountFen: number;
  /** 账户结余(元): the balance after this movement. */
  balanceFen: number;
  /** 资金变更提交申请人 (may be empty). */
  applicant: string;
  /** 备注 (may be empty). */
  note: string;
  /** 业务凭证号: usually the merchant's number of the business (out_trade_no, out_refund_no). */
  voucherNo: string;
}

export interface FundFlowSummary {
  count: number;
  incomeCount: number;
  incomeFen: number;
  expenseCount: number;
  expenseFen: number;
}

export interface ParsedFundFlowBill {
  rows: FundFlowRow[];
  summary: FundFlowSummary;
}

const DIRECTIONS = { 收入: 'income', 支出: 'expense' } as const;

const direction: BillCodec = {
  parse: (text) => {
    const value = DIRECTIONS[text as keyof typeof DIRECTIONS];
    if (value === undefined) throw new RangeError(`not 收入 or 支出: ${JSON.stringify(text)}`);
    return value;
  },
  format: (value) => (value === 'income' ? '收入' : '支出'),
};

const amount: BillCodec = {
  parse: (text) => {
    const fen = billCodecs.fen.parse(text) as number;
    if (fen < 0) throw new RangeError(`a negative amount: ${text}`);
    return fen;
  },
  format: billCodecs.fen.format,
};

const COLUMNS: readonly BillColumn<FundFlowRow>[] = [
  { name: '记账时间', field: 'bookedAt', codec: billCodecs.time },
  { name: '微信支付业务单号', field: 'businessNo', codec: billCodecs.text },
  { name: '资金流水单号', field: 'flowNo', codec: billCodecs.text },
  { name: '业务名称', field: 'businessName', codec: billCodecs.text },
  { name: '业务类型', field: 'businessType', codec: billCodecs.text },
  { name: '收支类型', field: 'direction', codec: direction },
  { name: '收支金额(元)', field: 'amountFen', codec: amount },
  { name: '账户结余(元)', field: 'balanceFen', codec: billCodecs.fen },
  { name: '资金变更提交申请人', field: 'applicant', codec: billCodecs.text },
  { name: '备注', field: 'note', codec: billCodecs.text },
  { name: '业务凭证号', field: 'voucherNo', codec: billCodecs.text },
];

const SUMMARY: readonly BillColumn<FundFlowSummary>[] = [
  { name: '资金流水总笔数', field: 'count', codec: billCodecs.count },
  { name: '收入笔数', field: 'incomeCount', codec: billCodecs.count },
  { name: '收入金额', field: 'incomeFen', codec: billCodecs.fen },
  { name: '支出笔数', field: 'expenseCount', codec: billCodecs.count },
  { name: '支出金额', field: 'expenseFen', codec: billCodecs.fen },
];

/** The fund-flow bill's format, for `BillTable`. */
export const FUND_FLOW_BILL: BillTableFormat<FundFlowRow, FundFlowSummary> = {
  what: 'fund-flow bill',
  columns: COLUMNS,
  required: ['记账时间', '微信支付业务单号', '资金流水单号', '收支类型', '收支金额(元)'],
  summary: SUMMARY,
  blank: () => ({
    bookedAt: new Date(0),
    businessNo: '',
    flowNo: '',
    businessName: '',
    businessType: '',
    direction: 'income',
    amountFen: 0,
    balanceFen: 0,
    applicant: '',
    note: '',
    voucherNo: '',
  }),
  zero: () => ({ count: 0, incomeCount: 0, incomeFen: 0, expenseCount: 0, expenseFen: 0 }),
  add: (t, row) => {
    t.count++;
    if (row.direction === 'income') {
      t.incomeCount++;
      t.incomeFen += row.amountFen;
    } else {
      t.expenseCount++;
      t.expenseFen += row.amountFen;
    }
  },
};

/** A fund-flow bill streamed from its bytes; see `BillReader`. */
export class FundFlowBillReader extends BillReader<FundFlowRow, FundFlowSummary> {}

/** Reads a fund-flow bill from bytes (plain or gzip), line by line. */
export function readFundFlowBill(
  source: BillSource,
  options?: BillReadOptions,
): FundFlowBillReader {
  return new FundFlowBillReader(FUND_FLOW_BILL, source, options);
}

/** Parses a fund-flow bill's text held in memory. */
export function parseFundFlowBill(text: string): ParsedFundFlowBill {
  const table = new BillTable(FUND_FLOW_BILL);
  const rows: FundFlowRow[] = [];
  for (const line of textLines(text)) {
    const row = table.push(line);
    if (row !== undefined) rows.push(row);
  }
  return { rows, summary: table.end() };
}

/** Writes a fund-flow bill in WeChat's text format (CRLF line ends, counts as `20.0`). */
export function formatFundFlowBill(rows: readonly FundFlowRow[]): string {
  const totals = FUND_FLOW_BILL.zero();
  for (const row of rows) FUND_FLOW_BILL.add(totals, row);
  const summary = SUMMARY.map((c) =>
    c.codec === billCodecs.count ? { ...c, codec: decimalCount } : c,
  );
  const lines = [
    billHeaderLine(COLUMNS),
    ...rows.map((row) => billValuesLine(COLUMNS, row)),
    billHeaderLine(summary),
    billValuesLine(summary, totals),
  ];
  return `${lines.join('\r\n')}\r\n`;
}

/** Counts as WeChat's example writes them in this summary. */
const decimalCount: BillCodec = { parse: billCodecs.count.parse, format: (value) => `${value}.0` };

/**
 * The trade bill (交易账单): APIv2 `/pay/downloadbill` and the file of APIv3's
 * `/v3/bill/tradebill`, one format (docs/wechat-rules.md, "Trade bills"). Three types, each
 * with its columns (as WeChat's bill documentation lists them):
 * - ALL: every payment of the day and every refund accepted that day;
 * - SUCCESS: payments only (its summary has 4 totals, not 7);
 * - REFUND: refunds only, with 退款申请时间 and 退款成功时间.
 * A trade row has `0` for 微信退款单号 and 商户退款单号; a refund row has 0.00 in 应结订单金额
 * and 订单金额 (its amounts are in 退款金额 / 申请退款金额); so the summary is the column sums
 * and 总交易单数 the number of rows. Amounts are yuan with 2 decimals, fees (手续费) with 5
 * (1/1000 fen), converted without floats.
 *
 * `readTradeBill` streams a bill from bytes (gzip or not); `parseBill` reads a text in memory;
 * both check the summary. `formatBill` writes one (the sandbox's bills, tests, benchmarks).
 */
import type { BillReadOptions, BillSource } from './bill-lines.js';
import { textLines } from './bill-lines.js';
import {
  type BillColumn,
  BillReader,
  BillTable,
  type BillTableFormat,
  billCodecs,
  billHeaderLine,
  billValuesLine,
} from './bill-table.js';

export type BillType = 'ALL' | 'SUCCESS' | 'REFUND' | 'RECHARGE_REFUND';
/** The types a bill's header tells apart (RECHARGE_REFUND bills have REFUND's columns). */
export type TradeBillType = Exclude<BillType, 'RECHARGE_REFUND'>;

/** One bill row. Money in fen, fees in 1/1000 fen. */
export interface BillRow {
  /** 交易时间: when it was paid, or when the refund was accepted (not when it succeeded). */
  tradeTime: Date;
  appId: string;
  mchId: string;
  /** 特约商户号 (`0` for ordinary merchants). */
  subMchId: string;
  deviceInfo: string;
  transactionId: string;
  outTradeNo: string;
  openid: string;
  tradeType: string;
  /** SUCCESS, REFUND, ... */
  tradeState: string;
  bankType: string;
  currency: string;
  /** 应结订单金额: 订单金额 less non-recharge coupons. */
  settlementFen: number;
  couponFen: number;
  /** 退款申请时间 (REFUND bills only). */
  refundRequestedAt?: Date;
  /** 退款成功时间 (REFUND bills only). */
  refundSucceededAt?: Date;
  refundId?: string;
  outRefundNo?: string;
  /** 退款金额: 申请退款金额 less coupon refunds. */
  refundFen: number;
  rechargeCouponRefundFen: number;
  refundType?: string;
  refundState?: string;
  productName: string;
  attach: string;
  /** 手续费, negative on refund rows (the fee given back). */
  feeMilliFen: number;
  rate: string;
  /** 订单金额: the trade's total_fee. */
  orderFen: number;
  /** 申请退款金额: the refund's refund_fee. */
  requestedRefundFen: number;
  rateNote: string;
}

/** The summary: the row count and the column sums (fen; the fees in 1/1000 fen). */
export interface BillSummary {
  tradeCount: number;
  settlementFen: number;
  refundFen: number;
  couponRefundFen: number;
  feeMilliFen: number;
  orderFen: number;
  requestedRefundFen: number;
}

export interface ParsedBill {
  type: TradeBillType;
  rows: BillRow[];
  summary: BillSummary;
}

const COLUMNS: readonly BillColumn<BillRow>[] = [
  { name: '交易时间', field: 'tradeTime', codec: billCodecs.time },
  { name: '公众账号ID', field: 'appId', codec: billCodecs.text },
  { name: '商户号', field: 'mchId', codec: billCodecs.text },
  { name: '特约商户号', field: 'subMchId', codec: billCodecs.text },
  { name: '设备号', field: 'deviceInfo', codec: billCodecs.text },
  { name: '微信订单号', field: 'transactionId', codec: billCodecs.text },
  { name: '商户订单号', field: 'outTradeNo', codec: billCodecs.text },
  { name: '用户标识', field: 'openid', codec: billCodecs.text },
  { name: '交易类型', field: 'tradeType', codec: billCodecs.text },
  { name: '交易状态', field: 'tradeState', codec: billCodecs.text },
  { name: '付款银行', field: 'bankType', codec: billCodecs.text },
  { name: '货币种类', field: 'currency', codec: billCodecs.text },
  { name: '应结订单金额', field: 'settlementFen', codec: billCodecs.fen },
  { name: '代金券金额', field: 'couponFen', codec: billCodecs.fen },
  { name: '退款申请时间', field: 'refundRequestedAt', codec: billCodecs.optionalTime },
  { name: '退款成功时间', field: 'refundSucceededAt', codec: billCodecs.optionalTime },
  { name: '微信退款单号', field: 'refundId', codec: billCodecs.refNo },
  { name: '商户退款单号', field: 'outRefundNo', codec: billCodecs.refNo },
  { name: '退款金额', field: 'refundFen', codec: billCodecs.fen },
  { name: '充值券退款金额', field: 'rechargeCouponRefundFen', codec: billCodecs.fen },
  { name: '退款类型', field: 'refundType', codec: billCodecs.ref },
  { name: '退款状态', field: 'refundState', codec: billCodecs.ref },
  { name: '商品名称', field: 'productName', codec: billCodecs.text },
  { name: '商户数据包', field: 'attach', codec: billCodecs.text },
  { name: '手续费', field: 'feeMilliFen', codec: billCodecs.milliFen },
  { name: '费率', field: 'rate', codec: billCodecs.text },
  { name: '订单金额', field: 'orderFen', codec: billCodecs.fen },
  { name: '申请退款金额', field: 'requestedRefundFen', codec: billCodecs.fen },
  { name: '费率备注', field: 'rateNote', codec: billCodecs.text },
];

const SUMMARY: readonly BillColumn<BillSummary>[] = [
  { name: '总交易单数', field: 'tradeCount', codec: billCodecs.count },
  { name: '应结订单总金额', field: 'settlementFen', codec: billCodecs.fen },
  { name: '退款总金额', field: 'refundFen', codec: billCodecs.fen },
  { name: '充值券退款总金额', field: 'couponRefundFen', codec: billCodecs.fen },
  { name: '手续费总金额', field: 'feeMilliFen', codec: billCodecs.milliFen },
  { name: '订单总金额', field: 'orderFen', codec: billCodecs.fen },
  { name: '申请退款总金额', field: 'requestedRefundFen', codec: billCodecs.fen },
];

const names = (list: string) => list.split(',');
const HEAD =
  '交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额';
const REFUND_COLS = '微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态';
const TAIL = '商品名称,商户数据包,手续费,费率,订单金额';

/** The columns of each bill type, in WeChat's order. */
export const BILL_COLUMNS: Readonly<Record<TradeBillType, readonly string[]>> = {
  ALL: names(`${HEAD},${REFUND_COLS},${TAIL},申请退款金额,费率备注`),
  SUCCESS: names(`${HEAD},${TAIL},费率备注`),
  REFUND: names(`${HEAD},退款申请时间,退款成功时间,${REFUND_COLS},${TAIL},申请退款金额,费率备注`),
};

export const BILL_SUMMARY_HEADER =
  '总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额';

/** The summary columns of each bill type: SUCCESS bills state 4 totals. */
export const BILL_SUMMARY_COLUMNS: Readonly<Record<TradeBillType, readonly string[]>> = {
  ALL: names(BILL_SUMMARY_HEADER),
  SUCCESS: names('总交易单数,应结订单总金额,手续费总金额,订单总金额'),
  REFUND: names(BILL_SUMMARY_HEADER),
};

/** The trade bill's format, for `BillTable`. */
export const TRADE_BILL: BillTableFormat<BillRow, BillSummary> = {
  what: 'trade bill',
  columns: COLUMNS,
  required: names(
    '交易时间,公众账号ID,商户号,微信订单号,商户订单号,交易状态,货币种类,应结订单金额,手续费,订单金额',
  ),
  requiredTogether: [names('微信退款单号,商户退款单号,退款金额,申请退款金额')],
  summary: SUMMARY,
  blank: () => ({
    tradeTime: new Date(0),
    appId: '',
    mchId: '',
    subMchId: '',
    deviceInfo: '',
    transactionId: '',
    outTradeNo: '',
    openid: '',
    tradeType: '',
    tradeState: '',
    bankType: '',
    currency: '',
    settlementFen: 0,
    couponFen: 0,
    refundRequestedAt: undefined,
    refundSucceededAt: undefined,
    refundId: undefined,
    outRefundNo: undefined,
    refundFen: 0,
    rechargeCouponRefundFen: 0,
    refundType: undefined,
    refundState: undefined,
    productName: '',
    attach: '',
    feeMilliFen: 0,
    rate: '',
    orderFen: 0,
    requestedRefundFen: 0,
    rateNote: '',
  }),
  zero: () => ({
    tradeCount: 0,
    settlementFen: 0,
    refundFen: 0,
    couponRefundFen: 0,
    feeMilliFen: 0,
    orderFen: 0,
    requestedRefundFen: 0,
  }),
  add: (t, row) => {
    t.tradeCount++;
    t.settlementFen += row.settlementFen;
    t.refundFen += row.refundFen;
    t.couponRefundFen += row.rechargeCouponRefundFen;
    t.feeMilliFen += row.feeMilliFen;
    t.orderFen += row.orderFen;
    t.requestedRefundFen += row.requestedRefundFen;
  },
};

/** A bill's type from its header's columns. */
export function tradeBillType(header: readonly string[]): TradeBillType {
  if (header.includes('退款申请时间')) return 'REFUND';
  return header.includes('微信退款单号') ? 'ALL' : 'SUCCESS';
}

/** A trade bill streamed from its bytes; see `BillReader` (rows count only once it ends). */
export class TradeBillReader extends BillReader<BillRow, BillSummary> {
  /** The bill's type, known once the header line was read. */
  get type(): TradeBillType | undefined {
    return this.table.header.length > 0 ? tradeBillType(this.table.header) : undefined;
  }
}

/** Reads a trade bill from bytes (plain or gzip), line by line. */
export function readTradeBill(source: BillSource, options?: BillReadOptions): TradeBillReader {
  return new TradeBillReader(TRADE_BILL, source, options);
}

/** Parses a bill's text held in memory (the type is recognised from the header line). */
export function parseBill(text: string): ParsedBill {
  const table = new BillTable(TRADE_BILL);
  const rows: BillRow[] = [];
  for (const line of textLines(text)) {
    const row = table.push(line);
    if (row !== undefined) rows.push(row);
  }
  const summary = table.end();
  return { type: tradeBillType(table.header), rows, summary };
}

function columnsOf<T>(list: readonly string[], all: readonly BillColumn<T>[]): BillColumn<T>[] {
  return list.map((name) => all.find((c) => c.name === name)!);
}

/** A bill's header line (RECHARGE_REFUND uses the REFUND columns). */
export function formatBillHeader(type: BillType): string {
  return billHeaderLine(columnsOf(BILL_COLUMNS[typeOf(type)], COLUMNS));
}

/** One row of a bill of `type`. */
export function formatBillRow(type: BillType, row: BillRow): string {
  return billValuesLine(columnsOf(BILL_COLUMNS[typeOf(type)], COLUMNS), row);
}

/** The summary header and summary lines of a bill of `type` with these totals. */
export function formatBillSummary(type: BillType, totals: BillSummary): string[] {
  const columns = columnsOf(BILL_SUMMARY_COLUMNS[typeOf(type)], SUMMARY);
  return [billHeaderLine(columns), billValuesLine(columns, totals)];
}

/** Writes a bill in WeChat's text format, CRLF line ends. */
export function formatBill(type: BillType, rows: readonly BillRow[]): string {
  const lines = [formatBillHeader(type), ...rows.map((row) => formatBillRow(type, row))];
  lines.push(...formatBillSummary(type, summarize(rows)));
  return `${lines.join('\r\n')}\r\n`;
}

/** The summary of `rows`: their count and column sums. */
export function summarize(rows: readonly BillRow[]): BillSummary {
  const totals = TRADE_BILL.zero();
  for (const row of rows) TRADE_BILL.add(totals, row);
  return totals;
}

function typeOf(type: BillType): TradeBillType {
  return type === 'RECHARGE_REFUND' ? 'REFUND' : type;
}

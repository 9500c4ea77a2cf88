/**
 * The trade bill of `/pay/downloadbill` (对账单): plain text, not XML, not signed.
 *
 *   header line (column names, comma-separated)
 *   one line per row, every field prefixed with a backtick: `2024-01-16 22:43:59,`wx…,…
 *   the summary header: 总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额
 *   the summary row, backtick-prefixed
 *
 * Amounts are yuan with 2 decimals, fees with 5 (1/1000 fen), converted without floats.
 * Column sets (ALL, SUCCESS, REFUND) as in WxJava's tests of real bills. As in real bills,
 * a trade row has `0` for 微信退款单号 and 商户退款单号, and a refund row has 0.00 in 应结订单金额
 * and 订单金额 (its amounts are in 退款金额 / 申请退款金额), so the summary is the column sums and
 * 总交易单数 the number of rows. Fields are split on ",`": a value holding ",`", a backtick or
 * a line break would break the format, so `formatBill` writes those as a space / `'`.
 */
import { fenToYuan, unitsToYuan, yuanToFen, yuanToUnits } from './amounts.js';
import { beijingDateTime, parseBeijingTime } from './ids.js';

export type BillType = 'ALL' | 'SUCCESS' | 'REFUND' | 'RECHARGE_REFUND';

/** One bill row. Money in fen, fees in 1/1000 fen. */
export interface BillRow {
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
  settlementFen: number;
  couponFen: number;
  /** 退款申请时间 (REFUND bills only). */
  refundRequestedAt?: Date;
  /** 退款成功时间 (REFUND bills only). */
  refundSucceededAt?: Date;
  refundId?: string;
  outRefundNo?: string;
  refundFen: number;
  rechargeCouponRefundFen: number;
  refundType?: string;
  refundState?: string;
  productName: string;
  attach: string;
  feeMilliFen: number;
  rate: string;
  orderFen: number;
  requestedRefundFen: number;
  rateNote: string;
}

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
  type: Exclude<BillType, 'RECHARGE_REFUND'>;
  rows: BillRow[];
  summary: BillSummary;
}

type Kind = 'text' | 'time' | 'fen' | 'milliFen' | 'refNo' | 'ref';
type Column = readonly [header: string, field: keyof BillRow, kind: Kind];

const HEAD: readonly Column[] = [
  ['交易时间', 'tradeTime', 'time'],
  ['公众账号ID', 'appId', 'text'],
  ['商户号', 'mchId', 'text'],
  ['特约商户号', 'subMchId', 'text'],
  ['设备号', 'deviceInfo', 'text'],
  ['微信订单号', 'transactionId', 'text'],
  ['商户订单号', 'outTradeNo', 'text'],
  ['用户标识', 'openid', 'text'],
  ['交易类型', 'tradeType', 'text'],
  ['交易状态', 'tradeState', 'text'],
  ['付款银行', 'bankType', 'text'],
  ['货币种类', 'currency', 'text'],
  ['应结订单金额', 'settlementFen', 'fen'],
  ['代金券金额', 'couponFen', 'fen'],
];
const REFUND_COLS: readonly Column[] = [
  ['微信退款单号', 'refundId', 'refNo'],
  ['商户退款单号', 'outRefundNo', 'refNo'],
  ['退款金额', 'refundFen', 'fen'],
  ['充值券退款金额', 'rechargeCouponRefundFen', 'fen'],
  ['退款类型', 'refundType', 'ref'],
  ['退款状态', 'refundState', 'ref'],
];
const TAIL_PRODUCT: readonly Column[] = [
  ['商品名称', 'productName', 'text'],
  ['商户数据包', 'attach', 'text'],
  ['手续费', 'feeMilliFen', 'milliFen'],
  ['费率', 'rate', 'text'],
  ['订单金额', 'orderFen', 'fen'],
];
const REQUESTED: Column = ['申请退款金额', 'requestedRefundFen', 'fen'];
const NOTE: Column = ['费率备注', 'rateNote', 'text'];

/** The columns of each bill type. */
export const BILL_COLUMNS: Readonly<Record<ParsedBill['type'], readonly Column[]>> = {
  ALL: [...HEAD, ...REFUND_COLS, ...TAIL_PRODUCT, REQUESTED, NOTE],
  SUCCESS: [...HEAD, ...TAIL_PRODUCT, NOTE],
  REFUND: [
    ...HEAD,
    ['退款申请时间', 'refundRequestedAt', 'time'],
    ['退款成功时间', 'refundSucceededAt', 'time'],
    ...REFUND_COLS,
    ...TAIL_PRODUCT,
    REQUESTED,
    NOTE,
  ],
};

export const BILL_SUMMARY_HEADER =
  '总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额';

/** Writes a bill in WeChat's text format (RECHARGE_REFUND uses the REFUND columns). */
export function formatBill(type: BillType, rows: readonly BillRow[]): string {
  const columns = BILL_COLUMNS[type === 'RECHARGE_REFUND' ? 'REFUND' : type];
  const lines = [columns.map((c) => c[0]).join(',')];
  for (const row of rows) {
    lines.push(columns.map(([, field, kind]) => `\`${formatValue(row[field], kind)}`).join(','));
  }
  const s = summarize(rows);
  lines.push(BILL_SUMMARY_HEADER);
  lines.push(
    [
      String(s.tradeCount),
      fenToYuan(s.settlementFen),
      fenToYuan(s.refundFen),
      fenToYuan(s.couponRefundFen),
      unitsToYuan(s.feeMilliFen, 5),
      fenToYuan(s.orderFen),
      fenToYuan(s.requestedRefundFen),
    ]
      .map((v) => `\`${v}`)
      .join(','),
  );
  return `${lines.join('\r\n')}\r\n`;
}

/** The summary of `rows`: their count and column sums. */
export function summarize(rows: readonly BillRow[]): BillSummary {
  const sum = (f: (r: BillRow) => number) => rows.reduce((t, r) => t + f(r), 0);
  return {
    tradeCount: rows.length,
    settlementFen: sum((r) => r.settlementFen),
    refundFen: sum((r) => r.refundFen),
    couponRefundFen: sum((r) => r.rechargeCouponRefundFen),
    feeMilliFen: sum((r) => r.feeMilliFen),
    orderFen: sum((r) => r.orderFen),
    requestedRefundFen: sum((r) => r.requestedRefundFen),
  };
}

function formatValue(value: BillRow[keyof BillRow], kind: Kind): string {
  if (value === undefined) return kind === 'refNo' ? '0' : '';
  if (kind === 'time') return beijingDateTime(value as Date);
  if (kind === 'fen') return fenToYuan(value as number);
  if (kind === 'milliFen') return unitsToYuan(value as number, 5);
  return String(value)
    .replace(/[\r\n]+/g, ' ')
    .replaceAll('`', "'");
}

/** A bill that does not have WeChat's format; the message says where. */
export class BillFormatError extends Error {
  override readonly name = 'BillFormatError';
}

/** Parses a bill's text (the type is recognised from the header line). */
export function parseBill(text: string): ParsedBill {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  while (lines.length > 0 && lines.at(-1)!.trim() === '') lines.pop();
  if (lines.length < 3)
    throw new BillFormatError('a bill has a header, a summary header and a summary row');
  const header = lines[0]!.replaceAll('`', '');
  const type = (Object.keys(BILL_COLUMNS) as ParsedBill['type'][]).find(
    (t) => BILL_COLUMNS[t].map((c) => c[0]).join(',') === header,
  );
  if (!type) throw new BillFormatError(`unknown bill header: ${header.slice(0, 60)}…`);
  const columns = BILL_COLUMNS[type];
  const summaryAt = lines.length - 2;
  if (lines[summaryAt]!.replaceAll('`', '') !== BILL_SUMMARY_HEADER) {
    throw new BillFormatError('the second-last line must be the summary header');
  }
  const rows: BillRow[] = [];
  for (let i = 1; i < summaryAt; i++) {
    const values = splitLine(lines[i]!, columns.length, i + 1);
    const row: Record<string, unknown> = {};
    columns.forEach(([name, field, kind], at) => {
      const parsed = parseValue(values[at]!, kind, `line ${i + 1}, ${name}`);
      if (parsed !== undefined) row[field] = parsed;
    });
    rows.push(row as unknown as BillRow);
  }
  const s = splitLine(lines[summaryAt + 1]!, 7, summaryAt + 2);
  const at = (n: number) => `summary, ${BILL_SUMMARY_HEADER.split(',')[n]}`;
  if (!/^(0|[1-9][0-9]{0,9})$/.test(s[0]!)) throw new BillFormatError(`${at(0)}: not a count`);
  return {
    type,
    rows,
    summary: {
      tradeCount: Number(s[0]),
      settlementFen: money(s[1]!, 2, at(1)),
      refundFen: money(s[2]!, 2, at(2)),
      couponRefundFen: money(s[3]!, 2, at(3)),
      feeMilliFen: money(s[4]!, 5, at(4)),
      orderFen: money(s[5]!, 2, at(5)),
      requestedRefundFen: money(s[6]!, 2, at(6)),
    },
  };
}

function splitLine(line: string, count: number, lineNo: number): string[] {
  if (!line.startsWith('`')) throw new BillFormatError(`line ${lineNo}: fields must start with \``);
  const values = line.slice(1).split(',`');
  if (values.length !== count) {
    throw new BillFormatError(`line ${lineNo}: ${values.length} fields, expected ${count}`);
  }
  return values;
}

function parseValue(value: string, kind: Kind, where: string): unknown {
  switch (kind) {
    case 'time':
      if (value === '') return undefined;
      return guard(() => parseBeijingTime(value), where);
    case 'fen':
      return money(value, 2, where);
    case 'milliFen':
      return money(value, 5, where);
    case 'refNo':
      return value === '' || value === '0' ? undefined : value;
    case 'ref':
      return value === '' ? undefined : value;
    default:
      return value;
  }
}

function money(value: string, decimals: number, where: string): number {
  return guard(() => (decimals === 2 ? yuanToFen(value) : yuanToUnits(value, decimals)), where);
}

function guard<T>(f: () => T, where: string): T {
  try {
    return f();
  } catch (err) {
    throw new BillFormatError(`${where}: ${(err as Error).message}`);
  }
}

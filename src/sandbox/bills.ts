/**
 * `POST /pay/downloadbill`: the day's rows (bill-records.ts) in WeChat's text format
 * (the protocol layer's `formatBill`), gzipped when `tar_type=GZIP`. Errors use the bill
 * style of v2-endpoint.ts: `return_code=FAIL`, `return_msg`, `error_code` 20002 for
 * "No Bill Exist" and 20001 for the rest. A bill not published yet (today's, or yesterday's
 * before 10:00 Beijing) is `Bill Creating`, WeChat's documented words for it.
 */
import { gzipSync } from 'node:zlib';
import { type BillRow, formatBill } from '../wechatpay/index.js';
import {
  BILL_TYPES,
  type BillRecord,
  type BillType,
  type BillUnavailable,
  billRecords,
} from './bill-records.js';
import type { SandboxCore } from './core.js';
import { refuse, type V2Answer, type V2Request } from './v2-endpoint.js';

const REASONS = {
  invalid_date: 'invalid bill_date (yyyyMMdd)',
  future: 'invalid bill_date (a day that has not started)',
  not_ready: 'Bill Creating',
  expired: 'invalid bill_date (bills are kept for 3 months)',
} as const;

export function downloadBill(core: SandboxCore, { fields }: V2Request): V2Answer {
  if (!fields.bill_date) refuse('LACK_PARAMS', 'missing parameter: bill_date', '20001');
  const type = (fields.bill_type || 'ALL') as BillType;
  if (!BILL_TYPES.includes(type)) refuse('PARAM_ERROR', 'invalid bill_type', '20001');
  const tar = fields.tar_type;
  if (tar && tar !== 'GZIP') refuse('PARAM_ERROR', 'invalid tar_type (GZIP or none)', '20001');
  const selection = billRecords(core, fields.bill_date, type);
  if (!selection.ok) refuseUnavailable(selection);
  if (selection.records.length === 0) refuse('NO_BILL', 'No Bill Exist', '20002');
  return billFile(formatBill(type, selection.records.map(billRow)), tar);
}

/** A day whose bill is not out (or never will be), refused in downloadbill's words. */
export function refuseUnavailable({ reason }: BillUnavailable): never {
  refuse(reason === 'not_ready' ? 'BILL_CREATING' : 'PARAM_ERROR', REASONS[reason], '20001');
}

/** A bill file's text as the answer, gzipped when `tar_type=GZIP`. */
export function billFile(text: string, tar: string | undefined): V2Answer {
  if (tar === 'GZIP') {
    return { type: 'raw', contentType: 'application/x-gzip', body: gzipSync(Buffer.from(text)) };
  }
  return { type: 'raw', contentType: 'text/plain; charset=utf-8', body: text };
}

/** A sandbox record as a bill row; a refund row carries its amounts in the refund columns. */
export function billRow(record: BillRecord): BillRow {
  const { kind, tradeTime, totalFen, refundRequestedAt, refundSucceededAt, ...row } = record;
  const refund = kind === 'refund';
  return {
    ...row,
    tradeTime: new Date(tradeTime),
    subMchId: '0',
    deviceInfo: '',
    settlementFen: refund ? 0 : totalFen,
    couponFen: 0,
    refundRequestedAt: refundRequestedAt === null ? undefined : new Date(refundRequestedAt),
    refundSucceededAt: refundSucceededAt === null ? undefined : new Date(refundSucceededAt),
    refundId: row.refundId ?? undefined,
    outRefundNo: row.outRefundNo ?? undefined,
    rechargeCouponRefundFen: 0,
    refundType: row.refundType ?? undefined,
    refundState: row.refundState ?? undefined,
    orderFen: refund ? 0 : totalFen,
    requestedRefundFen: refund ? row.refundFen : 0,
    rateNote: '',
  };
}

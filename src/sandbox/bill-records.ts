/**
 * Which trades and refunds a day's bill holds, from what happened in the sandbox. The text
 * format (backticks, summary rows) is the protocol layer's `formatBill`.
 *
 * Decisions (docs/sandbox.md):
 * - a day is a Beijing calendar day, 00:00 to 24:00 (+08:00);
 * - a trade enters the bill of the day it was paid (`time_end`) as a SUCCESS row, and stays
 *   SUCCESS there even if refunded later; a refund enters the bill of the day it succeeded as
 *   a REFUND row (PROCESSING, CHANGE and REFUNDCLOSE refunds are in no bill);
 * - the fee (手续费) is 0.60% of the amount, rounded to the fen (WxJava's example: 6.00 →
 *   0.04000), negative on refund rows;
 * - a day's bill exists from 10:00 Beijing the next day (WeChat starts making it at 9:00 and
 *   asks merchants to fetch it after 10:00), by the sandbox's clock: today's and, before 10:00,
 *   yesterday's are answered "Bill Creating"; bills are kept for 3 months.
 */
import type { BillRow } from '../wechatpay/index.js';
import type { SandboxCore } from './core.js';
import type { RefundRow } from './state/refund-store.js';
import type { TradeRow } from './state/trade-store.js';

export type BillType = 'ALL' | 'SUCCESS' | 'REFUND' | 'RECHARGE_REFUND';
export const BILL_TYPES: readonly BillType[] = ['ALL', 'SUCCESS', 'REFUND', 'RECHARGE_REFUND'];

/** The sandbox's fee rate, in parts per 10,000 (0.60%). */
export const FEE_RATE_BP = 60;
export const FEE_RATE_TEXT = '0.60%';
const DAY_MS = 24 * 3600 * 1000;
const BEIJING_OFFSET_MS = 8 * 3600 * 1000;
/** A day's bill is published at 10:00 Beijing the next day: 34 hours after the day starts. */
export const BILL_READY_AFTER_MS = DAY_MS + 10 * 3600 * 1000;
/** Bills older than this are not kept (official: the last 3 months). */
export const BILL_RETENTION_DAYS = 92;

/**
 * One bill row, in the sandbox's words: the bill's columns as the protocol layer's `BillRow`
 * names them, with times in ms, absent values null, and one amount for a trade.
 */
export type BillRecord = Pick<
  BillRow,
  | 'appId'
  | 'mchId'
  | 'transactionId'
  | 'outTradeNo'
  | 'openid'
  | 'tradeType'
  | 'bankType'
  | 'currency'
  | 'refundFen'
  | 'productName'
  | 'attach'
  | 'feeMilliFen'
  | 'rate'
> & {
  kind: 'trade' | 'refund';
  /** 交易时间: when the trade was paid (also on refund rows). */
  tradeTime: number;
  /** SUCCESS for trade rows, REFUND for refund rows. */
  tradeState: 'SUCCESS' | 'REFUND';
  /** 应结订单金额 and 订单金额 (no coupons in the sandbox, so they are equal). */
  totalFen: number;
  refundId: string | null;
  outRefundNo: string | null;
  /** 退款类型: ORIGINAL (原路退款) on refund rows. */
  refundType: string | null;
  refundState: string | null;
  /** 退款申请时间 / 退款成功时间 (REFUND bills). */
  refundRequestedAt: number | null;
  refundSucceededAt: number | null;
};

/** Milliseconds since the epoch at which Beijing day `yyyyMMdd` starts; undefined if invalid. */
export function beijingDayStart(billDate: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(billDate);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const utc = Date.UTC(y, mo - 1, d);
  const check = new Date(utc);
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) {
    return undefined;
  }
  return utc - BEIJING_OFFSET_MS;
}

/** The fee WeChat charges on an amount: 0.60%, rounded to the fen, in 1/1000 fen. */
export function feeMilliFen(fen: number): number {
  return Math.round((fen * FEE_RATE_BP) / 10_000) * 1000;
}

/** Why a day's bill cannot be served (trade and fund-flow bills alike). */
export interface BillUnavailable {
  ok: false;
  reason: 'invalid_date' | 'future' | 'not_ready' | 'expired';
}

/** Why a bill cannot be served, or the rows of the day (possibly none). */
export type BillSelection = { ok: true; records: BillRecord[] } | BillUnavailable;

/**
 * The Beijing day `billDate` (`yyyyMMdd`) as [from, to) in ms, if its bills are out: published
 * from 10:00 the next day, kept 3 months.
 */
export function billDay(
  core: SandboxCore,
  billDate: string,
): { ok: true; from: number; to: number } | BillUnavailable {
  const from = beijingDayStart(billDate);
  if (from === undefined) return { ok: false, reason: 'invalid_date' };
  const now = core.clock.now();
  if (from > now) return { ok: false, reason: 'future' };
  if (now < from + BILL_READY_AFTER_MS) return { ok: false, reason: 'not_ready' };
  if (now - from > BILL_RETENTION_DAYS * DAY_MS) return { ok: false, reason: 'expired' };
  return { ok: true, from, to: from + DAY_MS };
}

/** The rows of `billDate` (`yyyyMMdd`, Beijing) for `type`, oldest first. */
export function billRecords(core: SandboxCore, billDate: string, type: BillType): BillSelection {
  const day = billDay(core, billDate);
  if (!day.ok) return day;
  const { from, to } = day;
  const mchId = core.credentials.mchId;
  const records: BillRecord[] = [];
  if (type === 'ALL' || type === 'SUCCESS') {
    for (const t of core.state.trades.paidBetween(mchId, from, to)) records.push(tradeRecord(t));
  }
  if (type === 'ALL' || type === 'REFUND') {
    for (const r of core.state.refunds.forBill(mchId, from, to)) {
      const trade = core.state.trades.get(mchId, r.out_trade_no);
      if (trade) records.push(refundRecord(trade, r));
    }
  }
  // RECHARGE_REFUND: refunds of recharge coupons; the sandbox has no coupons, so never any.
  const faulty = withBillFaults(core, records, billDate, from, type);
  faulty.sort((a, b) => rowTime(a) - rowTime(b));
  return { ok: true, records: faulty };
}

/** The rows as the `billRows` fault makes the bill lie about them. */
function withBillFaults(
  core: SandboxCore,
  records: BillRecord[],
  billDate: string,
  from: number,
  type: BillType,
): BillRecord[] {
  const faults = core.faults.faults.billRows;
  const omitted = new Set(faults.omit);
  const out = records
    .filter((r) => !omitted.has(r.kind === 'refund' ? r.outRefundNo! : r.outTradeNo))
    .map((r) => {
      if (r.kind === 'refund') {
        const fen = faults.amountFen[r.outRefundNo!];
        return fen === undefined ? r : { ...r, refundFen: fen, feeMilliFen: -feeMilliFen(fen) };
      }
      const fen = faults.amountFen[r.outTradeNo];
      return fen === undefined ? r : { ...r, totalFen: fen, feeMilliFen: feeMilliFen(fen) };
    });
  if (type === 'ALL' || type === 'SUCCESS') {
    const { appId, mchId } = core.credentials;
    for (let i = 1; i <= faults.extra; i++) {
      out.push(madeUpTrade(`EXTRA${billDate}N${i}`, appId, mchId, from + i * 1000));
    }
    for (let i = 1; i <= faults.foreign; i++) {
      out.push(madeUpTrade(`FOREIGN${billDate}N${i}`, appId, '1900000999', from + i * 1000));
    }
  }
  return out;
}

/** A paid trade no one made here (an extra or a foreign bill row). */
function madeUpTrade(outTradeNo: string, appId: string, mchId: string, at: number): BillRecord {
  const totalFen = 100;
  return {
    kind: 'trade',
    tradeTime: at,
    appId,
    mchId,
    transactionId: `4200000000${outTradeNo}`.slice(0, 32),
    outTradeNo,
    openid: 'o-made-up',
    tradeType: 'JSAPI',
    tradeState: 'SUCCESS',
    bankType: 'OTHERS',
    currency: 'CNY',
    totalFen,
    productName: 'made up by the billRows fault',
    attach: '',
    rate: FEE_RATE_TEXT,
    refundId: null,
    outRefundNo: null,
    refundFen: 0,
    refundType: null,
    refundState: null,
    refundRequestedAt: null,
    refundSucceededAt: null,
    feeMilliFen: feeMilliFen(totalFen),
  };
}

function rowTime(r: BillRecord): number {
  return r.kind === 'refund' ? (r.refundSucceededAt ?? r.tradeTime) : r.tradeTime;
}

function common(t: TradeRow) {
  return {
    tradeTime: t.paid_at ?? t.created_at,
    appId: t.appid,
    mchId: t.mch_id,
    transactionId: t.transaction_id ?? '',
    outTradeNo: t.out_trade_no,
    openid: t.openid,
    tradeType: t.trade_type,
    bankType: t.bank_type ?? 'OTHERS',
    currency: t.fee_type,
    totalFen: t.total_fee,
    productName: t.body,
    attach: t.attach ?? '',
    rate: FEE_RATE_TEXT,
  };
}

function tradeRecord(t: TradeRow): BillRecord {
  return {
    ...common(t),
    kind: 'trade',
    tradeState: 'SUCCESS',
    refundId: null,
    outRefundNo: null,
    refundFen: 0,
    refundType: null,
    refundState: null,
    refundRequestedAt: null,
    refundSucceededAt: null,
    feeMilliFen: feeMilliFen(t.total_fee),
  };
}

function refundRecord(t: TradeRow, r: RefundRow): BillRecord {
  return {
    ...common(t),
    kind: 'refund',
    tradeState: 'REFUND',
    refundId: r.refund_id,
    outRefundNo: r.out_refund_no,
    refundFen: r.refund_fee,
    refundType: 'ORIGINAL',
    refundState: r.status,
    refundRequestedAt: r.created_at,
    refundSucceededAt: r.settled_at,
    feeMilliFen: -feeMilliFen(r.refund_fee),
  };
}

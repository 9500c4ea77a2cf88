/**
 * Refunds on APIv3: `POST /v3/refund/domestic/refunds` and `GET …/{out_refund_no}`, over the
 * same refunds and rules as v2 (refunds.ts: idempotent out_refund_no, the paid amount, 50 per
 * trade, a year, a minute apart). A v2 refusal becomes the v3 code WeChat documents for it
 * (`V3_CODES`); a v3 refund is notified in v3's format.
 *
 * Statuses: v2's PROCESSING, SUCCESS, CHANGE and REFUNDCLOSE are v3's PROCESSING, SUCCESS,
 * ABNORMAL and CLOSED.
 */
import { OUT_REFUND_NO_PATTERN } from '../wechatpay/index.js';
import { formatRfc3339, type Json } from '../wechatpay/v3/index.js';
import type { SandboxCore } from './core.js';
import type { Refunds } from './refunds.js';
import type { RefundRow, RefundStatus } from './state/refund-store.js';
import type { TradeRow } from './state/trade-store.js';
import { checkNotifyUrl, MAX_TOTAL_FEE } from './trades.js';
import { V2Invalid, V2Refusal } from './v2-endpoint.js';
import { badField, refuseV3, type V3Answer, type V3Request } from './v3-endpoint.js';
import { bytes, object, optionalString, string } from './v3-fields.js';

export const V3_REFUND_STATUS: Readonly<Record<RefundStatus, string>> = {
  PROCESSING: 'PROCESSING',
  SUCCESS: 'SUCCESS',
  CHANGE: 'ABNORMAL',
  REFUNDCLOSE: 'CLOSED',
};

/** v2 refusals of the shared rules, as v3 answers them: status and code. */
const V3_CODES: Readonly<Record<string, [number, string]>> = {
  REFUND_FEE_MISMATCH: [400, 'INVALID_REQUEST'],
  ERROR: [400, 'INVALID_REQUEST'],
  TRADE_OVERDUE: [400, 'INVALID_REQUEST'],
  INVALID_REQUEST: [400, 'INVALID_REQUEST'],
  PARAM_ERROR: [400, 'PARAM_ERROR'],
  FREQUENCY_LIMITED: [429, 'FREQUENCY_LIMITED'],
  ORDERNOTEXIST: [404, 'RESOURCE_NOT_EXISTS'],
  INVALID_TRANSACTIONID: [404, 'RESOURCE_NOT_EXISTS'],
  NOTENOUGH: [403, 'NOT_ENOUGH'],
  SYSTEMERROR: [500, 'SYSTEM_ERROR'],
};

/** `POST /v3/refund/domestic/refunds`. */
export function createRefund(core: SandboxCore, refunds: Refunds, { json }: V3Request): V3Answer {
  refunds.settleDue();
  const body = json!;
  const outRefundNo = string(body, 'out_refund_no', 64);
  if (!OUT_REFUND_NO_PATTERN.test(outRefundNo)) {
    badField('out_refund_no', '1 to 64 of 0-9 a-z A-Z _ - | * @');
  }
  const transactionId = optionalString(body, 'transaction_id');
  const outTradeNo = optionalString(body, 'out_trade_no');
  if (!transactionId && !outTradeNo) {
    refuseV3(400, 'PARAM_ERROR', 'transaction_id和out_trade_no必须填一个', {
      field: 'out_trade_no',
      location: 'body',
    });
  }
  const reason = optionalString(body, 'reason');
  if (reason !== undefined) bytes('reason', reason, 80);
  const notifyUrl = optionalString(body, 'notify_url');
  if (notifyUrl) {
    try {
      checkNotifyUrl(notifyUrl);
    } catch (err) {
      if (!(err instanceof V2Invalid)) throw err;
      badField('notify_url', 'must be an http(s) URL without a query');
    }
  }
  const fundsAccount = optionalString(body, 'funds_account');
  if (fundsAccount !== undefined && fundsAccount !== 'AVAILABLE') {
    badField('funds_account', 'must be AVAILABLE when given');
  }
  const amount = object(body, 'amount');
  const refund = fen(amount, 'refund');
  const total = fen(amount, 'total');
  if (amount.currency !== 'CNY') badField('amount.currency', 'must be CNY');
  if (refund > total) badField('amount.refund', 'must not exceed amount.total');
  const row = asV3(() => {
    const trade = tradeFor(core, transactionId, outTradeNo);
    return refunds.create({
      trade,
      outRefundNo,
      totalFee: total,
      refundFee: refund,
      refundDesc: reason,
      refundAccount: fundsAccount === 'AVAILABLE' ? 'REFUND_SOURCE_RECHARGE_FUNDS' : undefined,
      notifyUrl: notifyUrl || undefined,
      source: 'API',
      api: 'v3',
    });
  });
  return { status: 200, json: refundJson(row) };
}

/** `GET /v3/refund/domestic/refunds/{out_refund_no}`. */
export function queryRefund(core: SandboxCore, refunds: Refunds, outRefundNo: string): V3Answer {
  refunds.settleDue();
  const row = core.state.refunds.get(core.credentials.mchId, outRefundNo);
  if (!row) refuseV3(404, 'RESOURCE_NOT_EXISTS', '退款单不存在');
  return { status: 200, json: refundJson(row) };
}

function fen(json: Json, name: string): number {
  const v = json[name];
  if (!Number.isSafeInteger(v) || (v as number) < 1 || (v as number) > MAX_TOTAL_FEE) {
    badField(`amount.${name}`, 'must be a whole number of fen, at least 1');
  }
  return v as number;
}

function tradeFor(
  core: SandboxCore,
  transactionId: string | undefined,
  outTradeNo: string | undefined,
): TradeRow {
  const mchId = core.credentials.mchId;
  if (transactionId) {
    const trade = core.state.trades.byTransactionId(mchId, transactionId);
    if (!trade)
      refuseV3(404, 'RESOURCE_NOT_EXISTS', '订单不存在 (no trade with this transaction_id)');
    if (outTradeNo && outTradeNo !== trade.out_trade_no) {
      refuseV3(400, 'INVALID_REQUEST', 'transaction_id与out_trade_no不匹配');
    }
    return trade;
  }
  const trade = core.state.trades.get(mchId, outTradeNo!);
  if (!trade) refuseV3(404, 'RESOURCE_NOT_EXISTS', '订单不存在');
  return trade;
}

/** Runs the shared rules; their v2 refusals become v3's. */
function asV3<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (!(err instanceof V2Refusal)) throw err;
    const [status, code] = V3_CODES[err.errCode] ?? [400, 'INVALID_REQUEST'];
    refuseV3(status, code, err.errCodeDes);
  }
}

/** A refund as v3 answers it (`Refund`). */
export function refundJson(r: RefundRow): Json {
  const settled = r.status === 'SUCCESS' && r.settled_at !== null;
  return {
    refund_id: r.refund_id,
    out_refund_no: r.out_refund_no,
    transaction_id: r.transaction_id,
    out_trade_no: r.out_trade_no,
    channel: 'ORIGINAL',
    user_received_account: r.recv_account,
    ...(settled ? { success_time: formatRfc3339(new Date(r.settled_at!)) } : {}),
    create_time: formatRfc3339(new Date(r.created_at)),
    status: V3_REFUND_STATUS[r.status],
    funds_account: r.refund_account === 'REFUND_SOURCE_RECHARGE_FUNDS' ? 'AVAILABLE' : 'UNSETTLED',
    amount: {
      total: r.total_fee,
      refund: r.refund_fee,
      from: [],
      payer_total: r.total_fee,
      payer_refund: r.refund_fee,
      settlement_refund: r.refund_fee,
      settlement_total: r.total_fee,
      discount_refund: 0,
      currency: 'CNY',
      refund_fee: 0,
    },
    promotion_detail: [],
  };
}

/** The resource of a refund notification (REFUND.SUCCESS / ABNORMAL / CLOSED). */
export function refundNotifyResource(r: RefundRow): Json {
  const settled = r.status === 'SUCCESS' && r.settled_at !== null;
  return {
    mchid: r.mch_id,
    transaction_id: r.transaction_id,
    out_trade_no: r.out_trade_no,
    refund_id: r.refund_id,
    out_refund_no: r.out_refund_no,
    refund_status: V3_REFUND_STATUS[r.status],
    ...(settled ? { success_time: formatRfc3339(new Date(r.settled_at!)) } : {}),
    user_received_account: r.recv_account,
    amount: {
      total: r.total_fee,
      refund: r.refund_fee,
      payer_total: r.total_fee,
      payer_refund: r.refund_fee,
    },
  };
}

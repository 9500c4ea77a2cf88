/**
 * The JSON shapes the sandbox API shows people and tests: camelCase, money in fen with `Fen`
 * in the name, times as ISO-8601 UTC strings (sandbox time), as in docs/http-api.md.
 */
import type { SandboxCore } from './core.js';
import type { RefundRow, RefundSource, RefundStatus } from './state/refund-store.js';
import type { TradeRow } from './state/trade-store.js';
import { currentTradeState, type TradeState } from './trades.js';

export interface RefundView {
  outRefundNo: string;
  refundId: string;
  outTradeNo: string;
  transactionId: string;
  refundFen: number;
  totalFen: number;
  status: RefundStatus;
  source: RefundSource;
  notifyUrl: string | null;
  createdAt: string;
  /** When a PROCESSING refund will settle, or when it did. */
  settleAt: string;
  settledAt: string | null;
  recvAccount: string;
  /** `refund_account`: REFUND_SOURCE_UNSETTLED_FUNDS (the default) or _RECHARGE_FUNDS. */
  refundAccount: string;
}

export interface TradeView {
  outTradeNo: string;
  appId: string;
  mchId: string;
  openid: string;
  body: string;
  attach: string | null;
  totalFen: number;
  tradeState: TradeState;
  signType: string;
  notifyUrl: string;
  prepayId: string;
  prepayExpiresAt: string;
  /** `time_expire`, if the merchant gave one. */
  expiresAt: string | null;
  createdAt: string;
  closedAt: string | null;
  transactionId: string | null;
  paidAt: string | null;
  bankType: string | null;
  /** PROCESSING, SUCCESS and CHANGE refunds (what is no longer refundable). */
  refundedFen: number;
  refunds: RefundView[];
}

const iso = (ms: number) => new Date(ms).toISOString();
const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));

export function refundView(r: RefundRow): RefundView {
  return {
    outRefundNo: r.out_refund_no,
    refundId: r.refund_id,
    outTradeNo: r.out_trade_no,
    transactionId: r.transaction_id,
    refundFen: r.refund_fee,
    totalFen: r.total_fee,
    status: r.status,
    source: r.source,
    notifyUrl: r.notify_url,
    createdAt: iso(r.created_at),
    settleAt: iso(r.settle_at),
    settledAt: isoOrNull(r.settled_at),
    recvAccount: r.recv_account,
    refundAccount: r.refund_account,
  };
}

export function tradeView(core: SandboxCore, t: TradeRow): TradeView {
  const tradeState = currentTradeState(core, t);
  const refunds = core.state.refunds.ofTrade(t.mch_id, t.out_trade_no);
  return {
    outTradeNo: t.out_trade_no,
    appId: t.appid,
    mchId: t.mch_id,
    openid: t.openid,
    body: t.body,
    attach: t.attach,
    totalFen: t.total_fee,
    tradeState,
    signType: t.sign_type,
    notifyUrl: t.notify_url,
    prepayId: t.prepay_id,
    prepayExpiresAt: iso(t.prepay_expires_at),
    expiresAt: isoOrNull(t.expires_at),
    createdAt: iso(t.created_at),
    closedAt: isoOrNull(t.closed_at),
    transactionId: t.transaction_id,
    paidAt: isoOrNull(t.paid_at),
    bankType: t.bank_type,
    refundedFen: refunds
      .filter((r) => r.status !== 'REFUNDCLOSE')
      .reduce((s, r) => s + r.refund_fee, 0),
    refunds: refunds.map(refundView),
  };
}

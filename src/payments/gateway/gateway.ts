/**
 * The payment gateway: everything the domain needs from WeChat Pay, in domain words.
 * The domain never sees XML, JSON, signatures or wire field names: APIv2 and APIv3 are two
 * implementations of it, and a third (api-switch-gateway.ts) sends each order to the API that
 * made it while a shop moves from one to the other. Error codes the domain acts on are v2's
 * names (ORDERNOTEXIST, ORDERCLOSED, REFUNDNOTEXIST); the v3 adapter answers them too.
 * Amounts are integer fen; times are `Date`.
 */

import type { PaymentParams } from '../../contract/index.js';
import type { BillRow, BillSummary } from '../../wechatpay/bill.js';
import { UNVERIFIED_CODES, type WechatPayErrorKind } from '../../wechatpay/errors.js';

/** What `wx.requestPayment` takes is part of the HTTP contract: the mini program gets it as is. */
export type { PaymentParams, PaySignType } from '../../contract/index.js';

export interface PrepayRequest {
  outTradeNo: string;
  /** Shown to the payer (v2 `body`, ≤ 127 bytes of UTF-8). */
  description: string;
  totalFen: number;
  payerOpenid: string;
  /** The payer's (or the server's) IP, v2 `spbill_create_ip`. */
  payerIp: string;
  notifyUrl: string;
  attach?: string;
  /** WeChat closes the trade itself after this (v2 `time_expire`). */
  expiresAt?: Date;
}

export interface PrepayResult {
  prepayId: string;
  /** When WeChat stops accepting this prepay_id (2 hours after it was issued). */
  prepayExpiresAt: Date;
}

/**
 * WeChat's `trade_state`, plus NOT_FOUND when WeChat has no such `out_trade_no`. A mini
 * program (JSAPI) trade is NOTPAY, SUCCESS, REFUND or CLOSED; REVOKED, USERPAYING and PAYERROR
 * are documented for payment codes only and ACCEPT (received, not yet charged) for newer
 * products, but they are understood: not paid yet, and not to be closed while WeChat works.
 */
export type TradeState =
  | 'NOTPAY'
  | 'ACCEPT'
  | 'SUCCESS'
  | 'CLOSED'
  | 'REFUND'
  | 'USERPAYING'
  | 'PAYERROR'
  | 'REVOKED'
  | 'NOT_FOUND';

export interface TradeStatus {
  outTradeNo: string;
  state: TradeState;
  stateDesc?: string;
  /** Present once paid (SUCCESS or REFUND). */
  transactionId?: string;
  totalFen?: number;
  currency?: string;
  payerOpenid?: string;
  paidAt?: Date;
  appId?: string;
  mchId?: string;
}

/** A verified payment notification (signature already checked by the gateway). */
export interface PaymentNotice {
  outTradeNo: string;
  /** false when WeChat reports `result_code=FAIL` for this trade. */
  succeeded: boolean;
  transactionId?: string;
  totalFen?: number;
  currency?: string;
  appId: string;
  mchId: string;
  payerOpenid?: string;
  paidAt?: Date;
  attach?: string;
  /** A stable identity for de-duplication (v2: `transaction_id`, else out_trade_no + nonce). */
  noticeId: string;
}

/**
 * Where a refund is paid from: the unsettled takings of the day (WeChat's default) or the
 * available balance (可用余额). "交易未结算资金不足" is answered when the former runs short.
 */
export type RefundAccount = 'UNSETTLED_FUNDS' | 'RECHARGE_FUNDS';

export interface RefundRequest {
  outTradeNo: string;
  outRefundNo: string;
  totalFen: number;
  refundFen: number;
  reason?: string;
  notifyUrl?: string;
  account?: RefundAccount;
}

export interface RefundAccepted {
  outRefundNo: string;
  refundId: string;
  refundFen: number;
}

export type RefundState = 'PROCESSING' | 'SUCCESS' | 'CHANGE' | 'REFUNDCLOSE';

export interface RefundStatus {
  outTradeNo: string;
  outRefundNo: string;
  refundId?: string;
  transactionId?: string;
  state: RefundState;
  refundFen: number;
  totalFen?: number;
  succeededAt?: Date;
  receivedAccount?: string;
  /** API for refunds minipay asked for; VENDOR_PLATFORM for the merchant portal. */
  source?: 'API' | 'VENDOR_PLATFORM';
}

/** The WeChat Pay API an order was made with (and is queried, closed and refunded with). */
export type WechatPayApi = 'v2' | 'v3';
export const WECHATPAY_APIS: readonly WechatPayApi[] = ['v2', 'v3'];

/** The raw callback as it arrived; the gateway verifies it. */
export interface NotifyHttpRequest {
  headers: Readonly<Record<string, string | string[] | undefined>>;
  body: Buffer;
  /** Which API's callback path it arrived at (default: the gateway's own). */
  api?: WechatPayApi;
}

/** What to send back to WeChat. */
export interface NotifyHttpReply {
  statusCode: number;
  contentType: string;
  body: string;
}

/**
 * How the callback was handled: `ok` stops WeChat's retries; `retry` asks WeChat to try again
 * later (our side failed transiently); `reject` refuses a message that can never be valid.
 */
export type NotifyOutcome = 'ok' | 'retry' | 'reject';

/**
 * The columns of a bill row the domain reads: the protocol layer parses WeChat's bill
 * (wechatpay/bill.ts) into rows already in domain words (fen, 1/1000 fen for fees, Dates).
 */
export const BILL_TRADE_FIELDS = [
  'tradeTime',
  'appId',
  'mchId',
  'transactionId',
  'outTradeNo',
  'openid',
  'tradeType',
  'tradeState',
  'bankType',
  'currency',
  'settlementFen',
  'couponFen',
  'refundId',
  'outRefundNo',
  'refundFen',
  'refundType',
  'refundState',
  'productName',
  'attach',
  'feeMilliFen',
  'rate',
  'orderFen',
  'requestedRefundFen',
] as const;

export type BillTradeRow = Pick<BillRow, (typeof BILL_TRADE_FIELDS)[number]>;

/**
 * A protocol-layer bill row as the domain's: the fields of `BILL_TRADE_FIELDS`, written out as
 * one object literal (a million rows a day: building it from the list cost more than reading the row).
 */
export function billTradeRow(r: BillRow): BillTradeRow {
  return {
    tradeTime: r.tradeTime,
    appId: r.appId,
    mchId: r.mchId,
    transactionId: r.transactionId,
    outTradeNo: r.outTradeNo,
    openid: r.openid,
    tradeType: r.tradeType,
    tradeState: r.tradeState,
    bankType: r.bankType,
    currency: r.currency,
    settlementFen: r.settlementFen,
    couponFen: r.couponFen,
    refundId: r.refundId,
    outRefundNo: r.outRefundNo,
    refundFen: r.refundFen,
    refundType: r.refundType,
    refundState: r.refundState,
    productName: r.productName,
    attach: r.attach,
    feeMilliFen: r.feeMilliFen,
    rate: r.rate,
    orderFen: r.orderFen,
    requestedRefundFen: r.requestedRefundFen,
  };
}

export type BillType = 'ALL' | 'SUCCESS' | 'REFUND';

/** A day's bill read whole (`downloadBill`); reconciliation streams it (`openTradeBill`). */
export interface Bill {
  date: string;
  type: BillType;
  rows: BillTradeRow[];
  summary: BillSummary;
}

/**
 * A day's bill as it arrives: iterate it once for its rows, in batches (never the whole file in
 * memory). A row counts only once the iteration ended without an error: then `summary` holds the
 * totals the bill states, checked against its rows, and `sha256` the digest of its bytes. A
 * bill that fails (unreadable, a summary that does not add up, the connection lost) throws
 * `GatewayError` from the iteration; whatever was done with its rows must be undone.
 */
export interface BillStream<R, S> extends AsyncIterable<R[]> {
  readonly summary: S | undefined;
  readonly sha256: string | undefined;
}

export type TradeBill = BillStream<BillTradeRow, BillSummary>;

/** The totals of a fund-flow bill (one account's balance movements on a day), in fen. */
export interface FundFlowTotals {
  count: number;
  incomeCount: number;
  incomeFen: number;
  expenseCount: number;
  expenseFen: number;
}

/** Only the totals: the fund-flow bill's rows are checked against its summary, not matched. */
export type FundFlowBill = BillStream<unknown, FundFlowTotals>;

export interface PaymentGateway {
  readonly name: string;
  /** The API new orders are made with. */
  readonly api: WechatPayApi;
  readonly appId: string;
  readonly mchId: string;
  /** The gateway for orders made with `api` (itself, unless it switches between APIs). */
  forApi(api: WechatPayApi): PaymentGateway;
  prepay(request: PrepayRequest): Promise<PrepayResult>;
  /** Signs fresh `wx.requestPayment` parameters for a prepay_id (pure, no I/O). */
  paymentParams(prepayId: string): PaymentParams;
  queryTrade(outTradeNo: string): Promise<TradeStatus>;
  /** Resolves when WeChat has closed the trade (or it was already closed). */
  closeTrade(outTradeNo: string): Promise<void>;
  refund(request: RefundRequest): Promise<RefundAccepted>;
  queryRefund(outRefundNo: string): Promise<RefundStatus>;
  readPaymentNotify(request: NotifyHttpRequest): Promise<PaymentNotice>;
  readRefundNotify(request: NotifyHttpRequest): Promise<RefundStatus>;
  /** The reply WeChat expects on the callback path of `api` (default: the gateway's own). */
  notifyReply(outcome: NotifyOutcome, message?: string, api?: WechatPayApi): NotifyHttpReply;
  /** Resolves `null` when WeChat has no bill for that day (nothing happened). */
  downloadBill(date: string, type: BillType): Promise<Bill | null>;
  /**
   * The trade bill (ALL) of a Beijing day `yyyy-MM-dd`; `null` when WeChat has none (nothing
   * happened). A bill not published yet is `GatewayError('later', 'BILL_NOT_READY')`.
   */
  openTradeBill(date: string): Promise<TradeBill | null>;
  /**
   * The fund-flow bill of the basic account for a day, like `openTradeBill`; only on a gateway
   * that can ask for it (APIv2 needs the merchant API client certificate).
   */
  openFundFlowBill?(date: string): Promise<FundFlowBill | null>;
}

/**
 * Why a gateway call failed, which decides what the domain may do next: the protocol layer's
 * five kinds, whatever the API (wechatpay/errors.ts says each): `ambiguous` (WeChat may have
 * acted: retry with the same ids, or query), `rejected` (a business refusal), `later` (the same
 * call succeeds later), `config` (the merchant setup is wrong), `invalid` (never trusted).
 */
export type GatewayErrorKind = WechatPayErrorKind;

export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  constructor(
    readonly kind: GatewayErrorKind,
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  get retryable(): boolean {
    return this.kind === 'ambiguous';
  }

  /**
   * WeChat's answer failed its signature check (wechatpay/errors.ts `UNVERIFIED_CODES`): WeChat
   * may have acted, nothing it said is used; the verification key or the clock is wrong.
   */
  get unverified(): boolean {
    return this.kind === 'invalid' && UNVERIFIED_CODES.has(this.code);
  }
}

/**
 * Refunds as WeChat processes them: `secapi/pay/refund` accepts (PROCESSING), and after
 * `refundDelayMs / timeScale` the refund settles as SUCCESS, CHANGE or REFUNDCLOSE and a
 * refund notification goes out. Refunds "from the merchant portal" (VENDOR_PLATFORM) follow
 * the same rules but reach the merchant only through that notification.
 *
 * Rules (official refund doc plus observed answers; docs/sandbox.md):
 * - the same out_refund_no with the same trade and amounts returns the same refund
 *   (idempotent retry); with different amounts, REFUND_FEE_MISMATCH
 *   "订单金额或退款金额与之前请求不一致,请核实后再试", as is a total_fee that is not the order's;
 * - refund_fee > total_fee in the request: return_code=FAIL "invalid refund_fee";
 * - refunds never exceed the paid amount: fully refunded → ERROR "订单已全额退款", more than
 *   what is left → INVALID_REQUEST "refund_fee大于可退金额". PROCESSING, SUCCESS and CHANGE
 *   refunds count against it; a REFUNDCLOSE refund gives its amount back;
 * - at most 50 refunds per trade; trades paid more than a year ago: TRADE_OVERDUE;
 * - two refunds of one trade at least a minute of WeChat time apart (scaled by timeScale):
 *   FREQUENCY_LIMITED, and nothing recorded: the merchant retries the same out_refund_no;
 * - `refund_desc` at most 80 bytes of UTF-8;
 * - an unpaid trade: ERROR "订单状态错误".
 */
import {
  beijingDateTime,
  OUT_REFUND_NO_PATTERN,
  TEXT_LIMITS,
  type XmlFields,
} from '../wechatpay/index.js';
import { type SandboxCore, scaled } from './core.js';
import { DueTimer } from './due-timer.js';
import type { RefundOutcome } from './faults.js';
import { refundId as newRefundId, outRefundNoFromPortal } from './identifiers.js';
import type { RefundApi, RefundRow, RefundSource, RefundStatus } from './state/refund-store.js';
import type { TradeRow } from './state/trade-store.js';
import {
  checkBytes,
  checkFen,
  checkNotifyUrl,
  currentTradeState,
  requireFields,
} from './trades.js';
import { invalid, refuse, type V2Answer, type V2Request } from './v2-endpoint.js';
import { V3_SIGN_TYPE } from './v3-trades.js';

/** At most this many refunds per trade (official). */
export const MAX_REFUNDS_PER_TRADE = 50;
/** Trades older than a year cannot be refunded (official). */
export const REFUND_WINDOW_MS = 365 * 24 * 3600 * 1000;
/** refundquery pages hold 10 refunds (official). */
export const REFUNDS_PER_PAGE = 10;
const REFUND_ACCOUNTS = ['REFUND_SOURCE_UNSETTLED_FUNDS', 'REFUND_SOURCE_RECHARGE_FUNDS'];

/** What creating a refund needs, whoever asks (the API or the merchant portal). */
export interface RefundRequest {
  trade: TradeRow;
  outRefundNo: string;
  totalFee: number;
  refundFee: number;
  refundDesc?: string;
  refundAccount?: string;
  notifyUrl?: string;
  source: RefundSource;
  /** Overrides the `refundOutcome` fault for this refund. */
  outcome?: RefundOutcome;
  /** Overrides the `refundDelayMs` fault for this refund (WeChat time, divided by timeScale). */
  delayMs?: number;
  /** The API asking (default: v2; the portal's follows the trade's). */
  api?: RefundApi;
}

/** Called once a refund has settled (the notification is built and queued there). */
export type RefundSettled = (refund: RefundRow) => void;

export class Refunds {
  private readonly timer: DueTimer;

  constructor(
    private readonly core: SandboxCore,
    private readonly onSettled: RefundSettled,
  ) {
    this.timer = new DueTimer(
      core.clock,
      () => core.state.refunds.processing.nextAt(),
      () => this.settleDue(),
    );
  }

  start(): void {
    this.settleDue();
    this.timer.arm();
  }

  stop(): void {
    this.timer.stop();
  }

  /** Settles every refund whose time has come (also called before answering about refunds). */
  settleDue(): void {
    const now = this.core.clock.now();
    for (const r of this.core.state.refunds.processing.dueBy(now))
      this.settle(r, r.outcome, r.settle_at);
  }

  /** Settles a PROCESSING refund now with `status`; false if it had already settled. */
  settleNow(refund: RefundRow, status: RefundOutcome): boolean {
    return this.settle(refund, status, this.core.clock.now());
  }

  private settle(refund: RefundRow, status: RefundStatus, at: number): boolean {
    const state = this.core.state;
    return state.tx(() => {
      if (!state.refunds.settle(refund.refund_id, status, at)) return false;
      this.onSettled({ ...refund, status, settled_at: at });
      return true;
    });
  }

  /** `POST /secapi/pay/refund`. */
  handleRefund({ fields }: V2Request): V2Answer {
    this.settleDue();
    requireFields(fields, ['out_refund_no', 'total_fee', 'refund_fee']);
    if (!fields.transaction_id && !fields.out_trade_no) {
      refuse('LACK_PARAMS', 'transaction_id和out_trade_no必须填一个');
    }
    if (!OUT_REFUND_NO_PATTERN.test(fields.out_refund_no!)) {
      invalid('out_refund_no', '1 to 64 of 0-9 a-z A-Z _ - | * @');
    }
    const totalFee = checkFen(fields, 'total_fee');
    const refundFee = checkFen(fields, 'refund_fee');
    if (refundFee > totalFee) invalid('refund_fee', 'at most total_fee');
    if (fields.refund_fee_type && fields.refund_fee_type !== 'CNY')
      invalid('refund_fee_type', 'only CNY');
    checkBytes(fields, 'refund_desc', TEXT_LIMITS.refund_desc);
    if (fields.refund_account && !REFUND_ACCOUNTS.includes(fields.refund_account)) {
      invalid('refund_account', REFUND_ACCOUNTS.join(' or '));
    }
    if (fields.notify_url) checkNotifyUrl(fields.notify_url);
    const trade = this.tradeFor(fields);
    const refund = this.create({
      trade,
      outRefundNo: fields.out_refund_no!,
      totalFee,
      refundFee,
      refundDesc: fields.refund_desc || undefined,
      refundAccount: fields.refund_account || undefined,
      notifyUrl: fields.notify_url || undefined,
      source: 'API',
    });
    return {
      type: 'ok',
      fields: {
        transaction_id: refund.transaction_id,
        out_trade_no: refund.out_trade_no,
        out_refund_no: refund.out_refund_no,
        refund_id: refund.refund_id,
        refund_channel: undefined,
        refund_fee: refund.refund_fee,
        total_fee: refund.total_fee,
        cash_fee: trade.total_fee,
        cash_refund_fee: refund.refund_fee,
        coupon_refund_fee: 0,
        coupon_refund_count: 0,
      },
    };
  }

  private tradeFor(fields: XmlFields): TradeRow {
    const mchId = this.core.credentials.mchId;
    if (fields.transaction_id) {
      const trade = this.core.state.trades.byTransactionId(mchId, fields.transaction_id);
      if (!trade) refuse('INVALID_TRANSACTIONID', '无效transaction_id');
      if (fields.out_trade_no && fields.out_trade_no !== trade.out_trade_no) {
        refuse('PARAM_ERROR', 'transaction_id与out_trade_no不匹配');
      }
      return trade;
    }
    const trade = this.core.state.trades.get(mchId, fields.out_trade_no!);
    if (!trade) refuse('ORDERNOTEXIST', '订单不存在');
    return trade;
  }

  /**
   * Applies every refund rule and records the refund (or returns the one this out_refund_no
   * already made). Throws V2Refusal with WeChat's err_code when a rule refuses.
   */
  create(request: RefundRequest): RefundRow {
    const { core } = this;
    const state = core.state;
    const { trade } = request;
    return state.tx(() => {
      const existing = state.refunds.get(trade.mch_id, request.outRefundNo);
      if (existing) {
        if (
          existing.out_trade_no !== trade.out_trade_no ||
          existing.refund_fee !== request.refundFee ||
          existing.total_fee !== request.totalFee
        ) {
          refuse('REFUND_FEE_MISMATCH', '订单金额或退款金额与之前请求不一致,请核实后再试');
        }
        return existing;
      }
      const tradeState = currentTradeState(core, trade);
      if (tradeState !== 'SUCCESS' && tradeState !== 'REFUND') {
        refuse(
          'ERROR',
          `订单状态错误 (the trade is ${tradeState}; only a paid trade can be refunded)`,
        );
      }
      if (request.totalFee !== trade.total_fee) {
        refuse('REFUND_FEE_MISMATCH', '订单金额或退款金额与之前请求不一致,请核实后再试');
      }
      const now = core.clock.now();
      if (now - (trade.paid_at ?? now) > REFUND_WINDOW_MS)
        refuse('TRADE_OVERDUE', '订单已经超过退款期限');
      const refunds = state.refunds.ofTrade(trade.mch_id, trade.out_trade_no);
      const refunded = refunds
        .filter((r) => r.status !== 'REFUNDCLOSE')
        .reduce((sum, r) => sum + r.refund_fee, 0);
      if (refunded >= trade.total_fee) refuse('ERROR', '订单已全额退款');
      if (refunded + request.refundFee > trade.total_fee)
        refuse('INVALID_REQUEST', 'refund_fee大于可退金额');
      if (refunds.length >= MAX_REFUNDS_PER_TRADE) {
        refuse('INVALID_REQUEST', `同一笔订单部分退款次数不能超过${MAX_REFUNDS_PER_TRADE}次`);
      }
      const last = refunds.at(-1);
      if (last && now - last.created_at < scaled(core.config, core.config.refundIntervalMs)) {
        refuse('FREQUENCY_LIMITED', '频率限制：同一笔订单两次退款的间隔不能少于1分钟');
      }
      const faults = core.faults.faults;
      const delayMs = request.delayMs ?? faults.refundDelayMs;
      const row: RefundRow = {
        refund_id: newRefundId(now),
        mch_id: trade.mch_id,
        out_refund_no: request.outRefundNo,
        out_trade_no: trade.out_trade_no,
        transaction_id: trade.transaction_id!,
        total_fee: trade.total_fee,
        refund_fee: request.refundFee,
        refund_desc: request.refundDesc ?? null,
        refund_account: request.refundAccount ?? 'REFUND_SOURCE_UNSETTLED_FUNDS',
        source: request.source,
        status: 'PROCESSING',
        notify_url: request.notifyUrl ?? core.config.refundNotifyUrl ?? null,
        params: JSON.stringify([request.totalFee, request.refundFee]),
        created_at: now,
        settle_at: now + delayMs / core.config.timeScale,
        outcome: request.outcome ?? faults.refundOutcome,
        settled_at: null,
        recv_account:
          trade.bank_type === 'OTHERS' || !trade.bank_type ? '支付用户零钱' : '支付用户的银行卡',
        api: request.api ?? 'v2',
      };
      state.refunds.insert(row);
      this.timer.arm();
      return row;
    });
  }

  /** `POST /pay/refundquery`. */
  handleRefundQuery({ fields }: V2Request): V2Answer {
    this.settleDue();
    const mchId = this.core.credentials.mchId;
    const state = this.core.state;
    let refunds: RefundRow[];
    let trade: TradeRow | undefined;
    if (fields.refund_id || fields.out_refund_no) {
      const one = fields.refund_id
        ? state.refunds.byRefundId(mchId, fields.refund_id)
        : state.refunds.get(mchId, fields.out_refund_no!);
      if (!one) refuse('REFUNDNOTEXIST', '退款订单查询失败');
      refunds = [one];
      trade = state.trades.get(mchId, one.out_trade_no);
    } else if (fields.transaction_id || fields.out_trade_no) {
      trade = fields.transaction_id
        ? state.trades.byTransactionId(mchId, fields.transaction_id)
        : state.trades.get(mchId, fields.out_trade_no!);
      if (!trade && fields.transaction_id) refuse('INVALID_TRANSACTIONID', '无效transaction_id');
      refunds = trade ? state.refunds.ofTrade(mchId, trade.out_trade_no) : [];
    } else {
      refuse('LACK_PARAMS', 'refund_id、out_refund_no、transaction_id、out_trade_no必须填一个');
    }
    if (!trade || refunds.length === 0) refuse('REFUNDNOTEXIST', '退款订单查询失败');
    let offset = 0;
    if (fields.offset !== undefined && fields.offset !== '') {
      if (!/^(0|[1-9][0-9]{0,3})$/.test(fields.offset)) invalid('offset', 'a whole number from 0');
      offset = Number(fields.offset);
      if (offset >= refunds.length)
        refuse('PARAM_ERROR', 'offset超出范围 (offset is past the last refund)');
    }
    const page = refunds.slice(offset, offset + REFUNDS_PER_PAGE);
    const out: Record<string, string | number | null> = {
      transaction_id: trade.transaction_id,
      out_trade_no: trade.out_trade_no,
      total_fee: trade.total_fee,
      fee_type: trade.fee_type,
      cash_fee: trade.total_fee,
      total_refund_count: refunds.length,
      refund_count: page.length,
    };
    page.forEach((r, i) => {
      out[`out_refund_no_${i}`] = r.out_refund_no;
      out[`refund_id_${i}`] = r.refund_id;
      out[`refund_channel_${i}`] = 'ORIGINAL';
      out[`refund_fee_${i}`] = r.refund_fee;
      out[`settlement_refund_fee_${i}`] = r.refund_fee;
      out[`refund_status_${i}`] = r.status;
      out[`refund_account_${i}`] = r.refund_account;
      out[`refund_recv_accout_${i}`] = r.recv_account;
      out[`refund_success_time_${i}`] =
        r.status === 'SUCCESS' && r.settled_at !== null
          ? beijingDateTime(new Date(r.settled_at))
          : null;
    });
    return { type: 'ok', fields: out };
  }

  /** A refund started in the merchant portal (refund_request_source=VENDOR_PLATFORM). */
  fromPortal(options: {
    outTradeNo: string;
    refundFee: number;
    outRefundNo?: string;
    refundDesc?: string;
    notifyUrl?: string;
    outcome?: RefundOutcome;
    delayMs?: number;
  }): RefundRow {
    this.settleDue();
    const trade = this.core.state.trades.get(this.core.credentials.mchId, options.outTradeNo);
    if (!trade) refuse('ORDERNOTEXIST', '订单不存在');
    return this.create({
      trade,
      outRefundNo: options.outRefundNo ?? outRefundNoFromPortal(this.core.clock.now()),
      totalFee: trade.total_fee,
      refundFee: options.refundFee,
      refundDesc: options.refundDesc,
      notifyUrl: options.notifyUrl,
      source: 'VENDOR_PLATFORM',
      outcome: options.outcome,
      delayMs: options.delayMs,
      api: trade.sign_type === V3_SIGN_TYPE ? 'v3' : 'v2',
    });
  }
}

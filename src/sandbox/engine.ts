/**
 * The simulated WeChat, without HTTP: trades, refunds, login codes, notifications, the
 * user's payments and the mini program platform wired together. The HTTP app (http/app.ts) and the programmatic API
 * (index.ts) are two doors into the same engine.
 */
import { request } from 'undici';
import { isNotificationAcknowledged } from '../wechatpay/v3/index.js';
import type { SandboxCore } from './core.js';
import type { Faults, RefundOutcome } from './faults.js';
import { issueLoginCode } from './login.js';
import { type NotificationLogEntry, Notifier, type ReplyJudge } from './notifier.js';
import { MiniProgramPlatform } from './platform/platform.js';
import { Refunds } from './refunds.js';
import type { RefundRow } from './state/refund-store.js';
import type { TradeRow } from './state/trade-store.js';
import { payAsUser, type UserPaymentRequest, type UserPaymentResult } from './user-payment.js';
import { probeNotification, v3PaymentNotification, v3RefundNotification } from './v3-notify.js';
import type { PlatformView } from './v3-platform.js';
import { V3_SIGN_TYPE } from './v3-trades.js';
import { type RefundView, refundView, type TradeView, tradeView } from './views.js';

/**
 * How notifications are worded and how replies are judged: the protocol layer's
 * `buildPaymentNotify`, `buildRefundNotify` and `isNotifyReplySuccess` (notify-format.ts).
 * Undefined only for tests of the engine alone: then trades are paid but nothing is sent.
 */
export interface NotifyFormat {
  payment(core: SandboxCore, trade: TradeRow): string;
  refund(core: SandboxCore, refund: RefundRow): string;
  accepted: ReplyJudge;
}

/** What a signature probe got back. */
export interface ProbeResult {
  httpStatus: number | null;
  reply: string | null;
  /** The merchant answered something other than 200/204: it verifies. */
  refused: boolean;
  /** No answer (connection refused, timeout). */
  error?: string;
}

/** Where the clock offset is kept in the state. */
export const CLOCK_OFFSET_KEY = 'clockOffsetMs';

/** What the cashier page needs to show a prepay (nothing secret). */
export interface PrepayInfo {
  prepayId: string;
  outTradeNo: string;
  body: string;
  totalFen: number;
  tradeState: string;
  expiresAt: string;
}

export class SandboxEngine {
  readonly notifier: Notifier;
  readonly refunds: Refunds;
  readonly platform: MiniProgramPlatform;

  constructor(
    readonly core: SandboxCore,
    private readonly format: NotifyFormat | undefined,
  ) {
    this.notifier = new Notifier(core, (status, body) => format?.accepted(status, body) ?? false);
    this.refunds = new Refunds(core, (refund) => this.refundSettled(refund));
    this.platform = new MiniProgramPlatform(core);
  }

  start(): void {
    this.refunds.start();
    this.notifier.start();
  }

  async close(): Promise<void> {
    this.refunds.stop();
    await this.notifier.close();
    await this.platform.pushes.close();
  }

  /** `wx.login`: a one-time code for `openid` (a new user when none is given). */
  loginCode(openid?: string): { code: string; openid: string } {
    return issueLoginCode(this.core, openid);
  }

  /** `wx.requestPayment` by the user; throws UserPaymentError when WeChat would refuse. */
  pay(request: UserPaymentRequest): UserPaymentResult {
    return payAsUser(this.core, request, (trade, notify) => this.paid(trade, notify));
  }

  trade(outTradeNo: string): TradeView | undefined {
    this.refunds.settleDue();
    const row = this.core.state.trades.get(this.core.credentials.mchId, outTradeNo);
    return row && tradeView(this.core, row);
  }

  refund(outRefundNo: string): RefundView | undefined {
    this.refunds.settleDue();
    const row = this.core.state.refunds.get(this.core.credentials.mchId, outRefundNo);
    return row && refundView(row);
  }

  prepay(prepayId: string): PrepayInfo | undefined {
    const prepay = this.core.state.trades.prepay(prepayId);
    const trade = prepay && this.trade(prepay.out_trade_no);
    if (!prepay || !trade) return undefined;
    return {
      prepayId,
      outTradeNo: trade.outTradeNo,
      body: trade.body,
      totalFen: trade.totalFen,
      tradeState: trade.tradeState,
      expiresAt: new Date(prepay.expires_at).toISOString(),
    };
  }

  /** Ends the validity of a trade's current prepay_id now; false for an unknown trade. */
  expirePrepay(outTradeNo: string): boolean {
    const { state, credentials, clock } = this.core;
    if (!state.trades.get(credentials.mchId, outTradeNo)) return false;
    state.trades.expirePrepay(credentials.mchId, outTradeNo, clock.now());
    return true;
  }

  /** A refund made in the merchant portal (VENDOR_PLATFORM); throws V2Refusal on a rule. */
  portalRefund(options: Parameters<Refunds['fromPortal']>[0]): RefundView {
    return refundView(this.refunds.fromPortal(options));
  }

  /** Settles a PROCESSING refund now; undefined for an unknown refund. */
  settleRefund(
    outRefundNo: string,
    status?: RefundOutcome,
  ): { refund: RefundView; changed: boolean } | undefined {
    this.refunds.settleDue();
    const row = this.core.state.refunds.get(this.core.credentials.mchId, outRefundNo);
    if (!row) return undefined;
    const changed =
      row.status === 'PROCESSING' &&
      this.refunds.settleNow(row, status ?? (row.outcome as RefundOutcome));
    return { refund: this.refund(outRefundNo)!, changed };
  }

  /** Moves sandbox time forward (and keeps the jump across restarts). */
  advanceClock(ms: number): void {
    this.core.clock.advance(ms);
    this.core.state.setMeta(CLOCK_OFFSET_KEY, String(this.core.clock.offset));
    this.refunds.settleDue();
  }

  /** Rotates the platform key of the mode: a certificate, or the public key (v3-platform.ts). */
  rotateV3(): Promise<PlatformView> {
    return this.core.v3.rotate(this.core.clock.now());
  }

  /**
   * Sends one signature probe (a notification signed `WECHATPAY/SIGNTEST/…`) to `url`, as
   * WeChat does to test merchants; `refused` says the merchant did not acknowledge it.
   */
  async probe(url: string): Promise<ProbeResult> {
    const { headers, body } = probeNotification(this.core);
    const timeoutMs = this.core.config.notifyTimeoutMs;
    try {
      const res = await request(url, {
        method: 'POST',
        body,
        headers: { ...headers, 'user-agent': 'Mozilla/4.0' },
        signal: AbortSignal.timeout(timeoutMs),
      });
      const reply = (await res.body.text()).slice(0, 512);
      return {
        httpStatus: res.statusCode,
        reply,
        refused: !isNotificationAcknowledged(res.statusCode),
      };
    } catch (err) {
      return {
        httpStatus: null,
        reply: null,
        refused: false,
        error: String((err as Error).message).slice(0, 200),
      };
    }
  }

  setFaults(change: unknown): Faults {
    return this.core.faults.set(change);
  }

  notifications(): NotificationLogEntry[] {
    return this.notifier.log();
  }

  private paid(trade: TradeRow, notify: boolean): void {
    if (!this.format) return;
    const { faults, random } = this.core.faults;
    const never = random.chance('notify:never', faults.neverNotifyRate);
    const v3 = trade.sign_type === V3_SIGN_TYPE;
    this.notifier.enqueue(
      {
        kind: 'payment',
        format: v3 ? 'v3' : 'v2',
        outTradeNo: trade.out_trade_no,
        url: trade.notify_url,
        body: v3 ? v3PaymentNotification(this.core, trade) : this.format.payment(this.core, trade),
      },
      notify && !never,
    );
  }

  private refundSettled(refund: RefundRow): void {
    if (!refund.notify_url || !this.format) return;
    const v3 = refund.api === 'v3';
    this.notifier.enqueue({
      kind: 'refund',
      format: refund.api,
      outTradeNo: refund.out_trade_no,
      outRefundNo: refund.out_refund_no,
      url: refund.notify_url,
      body: v3 ? v3RefundNotification(this.core, refund) : this.format.refund(this.core, refund),
    });
  }
}

/**
 * A test double of the PaymentGateway for domain tests: WeChat's trade states in memory,
 * queued failures, and notifications as HMAC-signed JSON (so a forged one really fails
 * verification). The real wire format is covered by the sandbox integration tests.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  type Bill,
  GatewayError,
  type NotifyHttpReply,
  type NotifyHttpRequest,
  type NotifyOutcome,
  type PaymentGateway,
  type PaymentNotice,
  type PaymentParams,
  type PrepayRequest,
  type PrepayResult,
  type RefundAccepted,
  type RefundRequest,
  type RefundStatus,
  type TradeBill,
  type TradeState,
  type TradeStatus,
} from '../../src/payments/gateway/gateway.js';

interface Trade {
  request: PrepayRequest;
  state: TradeState;
  prepayId: string;
  transactionId?: string;
  paidAt?: Date;
}

type Operation = 'prepay' | 'queryTrade' | 'closeTrade';

const KEY = 'memory-gateway-notify-key';

export class MemoryGateway implements PaymentGateway {
  readonly name = 'memory';
  readonly api = 'v2' as const;
  readonly appId = 'wx00000000000000a1';
  readonly mchId = '1900000001';
  readonly trades = new Map<string, Trade>();
  readonly calls: { op: Operation; outTradeNo: string }[] = [];
  private readonly failures = new Map<Operation, GatewayError[]>();
  /** Runs inside closeTrade before it acts (to play a payment racing the close). */
  beforeClose: ((outTradeNo: string) => void) | undefined;
  /** The next N closeTrade calls succeed without closing (as WeChat has been seen to). */
  closeLeavesNotpay = 0;

  forApi(): PaymentGateway {
    return this;
  }

  /** The next calls of `op` throw these, in order. */
  fail(op: Operation, ...errors: GatewayError[]): void {
    this.failures.set(op, [...(this.failures.get(op) ?? []), ...errors]);
  }

  private take(op: Operation, outTradeNo: string): void {
    this.calls.push({ op, outTradeNo });
    const err = this.failures.get(op)?.shift();
    if (err) throw err;
  }

  /** How long prepay takes (to hold a request in flight). */
  prepayDelayMs = 0;

  private held: { entered: () => void; released: Promise<void> } | undefined;

  /**
   * Holds the next prepay until `release()`: `entered` resolves once a request is inside it, so
   * a test can act while that request is in flight, whatever the machine's speed.
   */
  holdPrepay(): { entered: Promise<void>; release: () => void } {
    let entered: () => void = () => undefined;
    let release: () => void = () => undefined;
    const enteredPromise = new Promise<void>((r) => {
      entered = r;
    });
    const released = new Promise<void>((r) => {
      release = r;
    });
    this.held = { entered, released };
    return { entered: enteredPromise, release };
  }

  async prepay(request: PrepayRequest): Promise<PrepayResult> {
    this.take('prepay', request.outTradeNo);
    const held = this.held;
    if (held) {
      this.held = undefined;
      held.entered();
      await held.released;
    }
    if (this.prepayDelayMs > 0) await new Promise((r) => setTimeout(r, this.prepayDelayMs));
    const existing = this.trades.get(request.outTradeNo);
    if (existing?.state === 'SUCCESS') throw new GatewayError('rejected', 'ORDERPAID', 'paid');
    if (existing?.state === 'CLOSED') throw new GatewayError('rejected', 'ORDERCLOSED', 'closed');
    const prepayId = `wx${randomBytes(8).toString('hex')}`;
    this.trades.set(request.outTradeNo, { request, state: 'NOTPAY', prepayId });
    return { prepayId, prepayExpiresAt: new Date(Date.now() + 2 * 3600_000) };
  }

  paymentParams(prepayId: string): PaymentParams {
    return {
      appId: this.appId,
      timeStamp: String(Math.floor(Date.now() / 1000)),
      nonceStr: randomBytes(8).toString('hex'),
      package: `prepay_id=${prepayId}`,
      signType: 'MD5',
      paySign: 'memory-gateway-does-not-sign',
    };
  }

  async queryTrade(outTradeNo: string): Promise<TradeStatus> {
    this.take('queryTrade', outTradeNo);
    const t = this.trades.get(outTradeNo);
    if (!t) return { outTradeNo, state: 'NOT_FOUND' };
    return {
      outTradeNo,
      state: t.state,
      transactionId: t.transactionId,
      totalFen: t.request.totalFen,
      currency: 'CNY',
      paidAt: t.paidAt,
      appId: this.appId,
      mchId: this.mchId,
    };
  }

  async closeTrade(outTradeNo: string): Promise<void> {
    this.take('closeTrade', outTradeNo);
    this.beforeClose?.(outTradeNo);
    const t = this.trades.get(outTradeNo);
    if (!t) throw new GatewayError('rejected', 'ORDERNOTEXIST', 'no such trade');
    if (t.state === 'SUCCESS') throw new GatewayError('rejected', 'ORDERPAID', 'paid');
    if (this.closeLeavesNotpay > 0) {
      this.closeLeavesNotpay--;
      return;
    }
    t.state = 'CLOSED';
  }

  /** The user pays; resolves to the notify body WeChat would send. */
  pay(outTradeNo: string, overrides: Partial<PaymentNotice> = {}): Buffer {
    const t = this.trades.get(outTradeNo);
    if (!t) throw new Error(`no trade ${outTradeNo}`);
    if (t.state !== 'NOTPAY') throw new Error(`trade ${outTradeNo} is ${t.state}`);
    t.state = 'SUCCESS';
    t.transactionId = `4200${randomBytes(10).toString('hex')}`;
    t.paidAt = new Date();
    return this.notifyBody(outTradeNo, overrides);
  }

  notifyBody(outTradeNo: string, overrides: Partial<PaymentNotice> = {}, key = KEY): Buffer {
    const t = this.trades.get(outTradeNo)!;
    const notice: PaymentNotice = {
      outTradeNo,
      succeeded: true,
      transactionId: t.transactionId,
      totalFen: t.request.totalFen,
      currency: 'CNY',
      appId: this.appId,
      mchId: this.mchId,
      payerOpenid: t.request.payerOpenid,
      paidAt: t.paidAt,
      noticeId: t.transactionId ?? outTradeNo,
      ...overrides,
    };
    const body = JSON.stringify(notice);
    return Buffer.from(JSON.stringify({ body, sig: sign(body, key) }));
  }

  async readPaymentNotify(request: NotifyHttpRequest): Promise<PaymentNotice> {
    let parsed: { body?: unknown; sig?: unknown };
    try {
      parsed = JSON.parse(request.body.toString('utf8'));
    } catch {
      throw new GatewayError('invalid', 'XML_MALFORMED', 'not a notification');
    }
    if (typeof parsed.body !== 'string' || typeof parsed.sig !== 'string') {
      throw new GatewayError('invalid', 'XML_MALFORMED', 'not a notification');
    }
    const expected = Buffer.from(sign(parsed.body, KEY));
    const given = Buffer.from(parsed.sig);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
      throw new GatewayError('invalid', 'BAD_SIGNATURE', 'signature does not verify');
    }
    const notice = JSON.parse(parsed.body) as PaymentNotice & { paidAt?: string };
    return { ...notice, paidAt: notice.paidAt ? new Date(notice.paidAt) : undefined };
  }

  notifyReply(outcome: NotifyOutcome, message = 'OK'): NotifyHttpReply {
    return {
      statusCode: outcome === 'retry' ? 500 : 200,
      contentType: 'application/json',
      body: JSON.stringify({ outcome, message }),
    };
  }

  async refund(_request: RefundRequest): Promise<RefundAccepted> {
    throw new Error('refunds are not part of the memory gateway');
  }
  async queryRefund(): Promise<RefundStatus> {
    throw new Error('refunds are not part of the memory gateway');
  }
  async readRefundNotify(): Promise<RefundStatus> {
    throw new Error('refunds are not part of the memory gateway');
  }
  async downloadBill(): Promise<Bill | null> {
    throw new Error('bills are not part of the memory gateway');
  }
  async openTradeBill(): Promise<TradeBill | null> {
    throw new Error('bills are not part of the memory gateway');
  }
}

function sign(body: string, key: string): string {
  return createHmac('sha256', key).update(body).digest('hex');
}

export const ambiguous = () => new GatewayError('ambiguous', 'SYSTEMERROR', 'system busy');

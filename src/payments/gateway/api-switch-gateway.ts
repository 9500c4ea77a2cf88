/**
 * A shop moving from APIv2 to APIv3 without losing an order: new orders are made with the
 * current API (v3), and an order made with the previous one (v2) is still paid, queried,
 * closed and refunded through it, as long as its keys are configured. Each order records its
 * API (`orders.wechatpay_api`); the domain asks `forApi` for the gateway of that order.
 * Notifications are read by the API of the callback path they arrived at.
 */
import type {
  Bill,
  BillType,
  FundFlowBill,
  NotifyHttpReply,
  NotifyHttpRequest,
  NotifyOutcome,
  PaymentGateway,
  PaymentNotice,
  PaymentParams,
  PrepayRequest,
  PrepayResult,
  RefundAccepted,
  RefundRequest,
  RefundStatus,
  TradeBill,
  TradeStatus,
  WechatPayApi,
} from './gateway.js';

export class ApiSwitchGateway implements PaymentGateway {
  readonly name: string;
  readonly api: WechatPayApi;
  readonly appId: string;
  readonly mchId: string;

  constructor(
    private readonly current: PaymentGateway,
    private readonly previous: PaymentGateway,
  ) {
    if (current.api === previous.api) {
      throw new TypeError(`both gateways speak ${current.api}: nothing to switch between`);
    }
    if (current.mchId !== previous.mchId || current.appId !== previous.appId) {
      throw new TypeError('the two gateways must be the same merchant and mini program');
    }
    this.name = `${current.name}+${previous.name}`;
    this.api = current.api;
    this.appId = current.appId;
    this.mchId = current.mchId;
  }

  forApi(api: WechatPayApi): PaymentGateway {
    return api === this.previous.api ? this.previous : this.current;
  }

  prepay(request: PrepayRequest): Promise<PrepayResult> {
    return this.current.prepay(request);
  }

  paymentParams(prepayId: string): PaymentParams {
    return this.current.paymentParams(prepayId);
  }

  queryTrade(outTradeNo: string): Promise<TradeStatus> {
    return this.current.queryTrade(outTradeNo);
  }

  closeTrade(outTradeNo: string): Promise<void> {
    return this.current.closeTrade(outTradeNo);
  }

  refund(request: RefundRequest): Promise<RefundAccepted> {
    return this.current.refund(request);
  }

  queryRefund(outRefundNo: string): Promise<RefundStatus> {
    return this.current.queryRefund(outRefundNo);
  }

  readPaymentNotify(request: NotifyHttpRequest): Promise<PaymentNotice> {
    return this.forApi(request.api ?? this.api).readPaymentNotify(request);
  }

  readRefundNotify(request: NotifyHttpRequest): Promise<RefundStatus> {
    return this.forApi(request.api ?? this.api).readRefundNotify(request);
  }

  notifyReply(outcome: NotifyOutcome, message?: string, api?: WechatPayApi): NotifyHttpReply {
    return this.forApi(api ?? this.api).notifyReply(outcome, message);
  }

  /** Bills are the merchant's, whatever API made each trade: the current API fetches them. */
  downloadBill(date: string, type: BillType): Promise<Bill | null> {
    return this.current.downloadBill(date, type);
  }

  /** One bill per merchant and day, whichever API serves it: the current one's. */
  openTradeBill(date: string): Promise<TradeBill | null> {
    return this.current.openTradeBill(date);
  }

  /** Only APIv2 serves the fund-flow bill with the client certificate: whichever can. */
  get openFundFlowBill(): ((date: string) => Promise<FundFlowBill | null>) | undefined {
    const gateway = [this.current, this.previous].find((g) => g.openFundFlowBill);
    return gateway?.openFundFlowBill?.bind(gateway);
  }

  async close(): Promise<void> {
    await Promise.all([closeOf(this.current), closeOf(this.previous)]);
  }
}

function closeOf(gateway: PaymentGateway): Promise<void> {
  const close = (gateway as { close?: () => Promise<void> }).close;
  return close ? close.call(gateway) : Promise.resolve();
}

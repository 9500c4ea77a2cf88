/**
 * The sandbox's mini program platform (api.weixin.qq.com's server APIs): one `call` per
 * request, in WeChat's order — faults (system busy, an armed errcode), the access_token,
 * then the API itself — and the user's and the admin console's side for the sandbox API:
 * confirming receipt, subscribing, the phone button, the push configuration and
 * `is_trade_managed`.
 */

import type { SandboxCore } from '../core.js';
import type { PlatformEndpoint } from '../faults.js';
import type { TradeRow } from '../state/trade-store.js';
import { checkToken, stableToken } from './access-tokens.js';
import { type PlatformAnswer, PlatformRefusal } from './answers.js';
import { getUserPhoneNumber, sendSubscribeMessage } from './messages.js';
import { getOrderList } from './order-list.js';
import { PushSender } from './push-sender.js';
import {
  ConfirmRefusal,
  confirmReceipt,
  deliveryList,
  getOrder,
  isTradeManaged,
  notifyConfirmReceive,
  uploadShippingInfo,
} from './shipping.js';

const TRADE_MANAGED_KEY = 'tradeManaged';

/** The answer of one platform call, or `swallow` when a timeout fault holds the request. */
export type PlatformResult = { answer: PlatformAnswer } | { swallow: true };

export class MiniProgramPlatform {
  readonly pushes: PushSender;

  constructor(private readonly core: SandboxCore) {
    this.pushes = new PushSender(core);
  }

  /** One call of `path` with the `access_token` of its query and its parsed JSON body. */
  call(path: PlatformEndpoint, accessToken: string | undefined, body: unknown): PlatformResult {
    const { faults, random } = this.core.faults;
    if (random.chance(`error:${path}`, faults.systemErrorRate[path] ?? 0)) {
      return { answer: new PlatformRefusal(-1, 'system error').answer() };
    }
    const armed = this.core.faults.spendPlatformErrcode(path);
    if (armed !== undefined) {
      return { answer: new PlatformRefusal(armed, 'sandbox fault: platformErrcodes').answer() };
    }
    let answer: PlatformAnswer;
    try {
      answer = this.core.state.tx(() => this.run(path, accessToken, body));
    } catch (err) {
      if (!(err instanceof PlatformRefusal)) throw err;
      answer = err.answer();
    }
    if (random.chance(`timeout:${path}`, faults.timeoutRate[path] ?? 0)) return { swallow: true };
    return { answer };
  }

  private run(path: PlatformEndpoint, accessToken: string | undefined, body: unknown) {
    const core = this.core;
    if (path === '/cgi-bin/stable_token') return stableToken(core, body);
    checkToken(core, accessToken);
    const push = (event: string, trade: TradeRow, fields: Record<string, unknown>) =>
      this.tradePush(event, trade, fields);
    switch (path) {
      case '/wxa/sec/order/upload_shipping_info':
        return uploadShippingInfo(core, body, push);
      case '/wxa/sec/order/get_order':
        return getOrder(core, body);
      case '/wxa/sec/order/get_order_list':
        return getOrderList(core, body);
      case '/wxa/sec/order/is_trade_managed':
        return isTradeManaged(core, body, this.tradeManaged);
      case '/wxa/sec/order/notify_confirm_receive':
        return notifyConfirmReceive(core, body);
      case '/cgi-bin/express/delivery/open_msg/get_delivery_list':
        return deliveryList();
      case '/cgi-bin/message/subscribe/send':
        return sendSubscribeMessage(core, body);
      case '/wxa/business/getuserphonenumber':
        return getUserPhoneNumber(core, body);
    }
  }

  /** Whether the mini program is under the shipping regime (default yes). */
  get tradeManaged(): boolean {
    return this.core.state.getMeta(TRADE_MANAGED_KEY) !== 'false';
  }

  set tradeManaged(managed: boolean) {
    this.core.state.setMeta(TRADE_MANAGED_KEY, String(managed));
  }

  /** The user (or WeChat, `auto`) confirms receipt; the order settles and the push is sent. */
  confirmReceipt(ref: { outTradeNo?: string; transactionId?: string }, method: 'user' | 'auto') {
    const { state, credentials } = this.core;
    const trade = ref.transactionId
      ? state.trades.byTransactionId(credentials.mchId, ref.transactionId)
      : state.trades.get(credentials.mchId, ref.outTradeNo ?? '');
    return state.tx(() =>
      confirmReceipt(this.core, trade, method, (event, t, fields) =>
        this.tradePush(event, t, fields),
      ),
    );
  }

  /** WeChat's reminders: to integrate the API (no order), or to ship a paid order. */
  remind(
    event: 'trade_manage_remind_access_api' | 'trade_manage_remind_shipping',
    outTradeNo?: string,
  ): number {
    const msg =
      event === 'trade_manage_remind_access_api'
        ? '你已开通小程序发货信息管理服务，请尽快接入发货信息录入接口'
        : '请尽快录入发货信息';
    if (event === 'trade_manage_remind_access_api') {
      return this.pushes.send(event, null, { ...this.envelope(event), msg });
    }
    const trade = this.core.state.trades.get(this.core.credentials.mchId, outTradeNo ?? '');
    if (!trade?.transaction_id) {
      throw new ConfirmRefusal('NOT_FOUND', 'no paid trade with this number');
    }
    return this.tradePush(event, trade, { msg });
  }

  private tradePush(event: string, trade: TradeRow, fields: Record<string, unknown>): number {
    return this.pushes.send(event, trade.transaction_id, {
      ...this.envelope(event),
      transaction_id: trade.transaction_id,
      merchant_id: trade.mch_id,
      sub_merchant_id: '',
      merchant_trade_no: trade.out_trade_no,
      pay_time: Math.floor((trade.paid_at ?? 0) / 1000),
      ...fields,
    });
  }

  private envelope(event: string): Record<string, unknown> {
    return {
      ToUserName: originalId(this.core.credentials.appId),
      FromUserName: SYSTEM_SENDER,
      CreateTime: Math.floor(this.core.clock.now() / 1000),
      MsgType: 'event',
      Event: event,
    };
  }
}

/** The system account trade-management events come from. */
const SYSTEM_SENDER = 'o7esq5OI1Uyc8SpPJ2NHJ8z2sS7Q';

/** The mini program's original id (`gh_` + 12 hex digits), derived from its AppID. */
export function originalId(appId: string): string {
  return `gh_${appId.slice(-12)}`;
}

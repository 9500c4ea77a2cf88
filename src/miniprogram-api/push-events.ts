/**
 * The events of a verified push, typed. The trade-management events of 小程序发货信息管理服务
 * get their own shapes; every other message is a `generic` event the app records and
 * acknowledges. Field values arrive as strings in XML and as numbers or strings in JSON; both
 * are read here. Times are seconds since the epoch, returned as `Date`.
 */
import { MiniProgramApiError } from './errors.js';

/** A decrypted, verified push message: its fields as WeChat sent them. */
export type PushFields = Readonly<Record<string, unknown>>;

interface PushEventBase {
  /** The mini program's original id (`gh_…`). */
  toUserName?: string;
  /** The sender: a system account or the user's openid. */
  fromUserName?: string;
  createTime?: Date;
  fields: PushFields;
}

/** The order a trade-management event is about. */
export interface TradeRef {
  transactionId: string;
  merchantId: string;
  subMerchantId?: string;
  merchantTradeNo: string;
  payTime: Date;
}

/** 提醒接入发货信息管理服务API: WeChat reminds the merchant to integrate the shipping API. */
export interface RemindAccessApiEvent extends PushEventBase {
  type: 'trade_manage_remind_access_api';
  msg?: string;
}

/** 提醒需要上传发货信息: an order paid over 48 hours ago has no shipping info yet. */
export interface RemindShippingEvent extends PushEventBase, TradeRef {
  type: 'trade_manage_remind_shipping';
  msg?: string;
}

/**
 * 订单将要结算或已经结算, sent twice: when the shipment completes (`stage: 'shipped'`, with the
 * estimated settlement time) and when the order settles (`stage: 'settled'`, with how and when
 * receipt was confirmed and when it settled).
 */
export interface OrderSettlementEvent extends PushEventBase, TradeRef {
  type: 'trade_manage_order_settlement';
  stage: 'shipped' | 'settled';
  shippedTime?: Date;
  estimatedSettlementTime?: Date;
  /**
   * As WeChat sent it. Documented 1 automatic, 2 by the user; developers report the reverse
   * (docs/miniprogram-api.md), so it is passed on, not named.
   */
  confirmReceiveMethod?: number;
  confirmReceiveTime?: Date;
  settlementTime?: Date;
}

/** Any other message or event: recorded and acknowledged. */
export interface GenericPushEvent extends PushEventBase {
  type: 'generic';
  msgType: string;
  event?: string;
}

export type PushEvent =
  | RemindAccessApiEvent
  | RemindShippingEvent
  | OrderSettlementEvent
  | GenericPushEvent;

/** Types the fields of a verified message; throws `invalid` when a trade event lacks its ids. */
export function toPushEvent(fields: PushFields): PushEvent {
  const msgType = text(fields, 'MsgType');
  if (!msgType) throw malformed('MsgType is missing');
  const base: PushEventBase = {
    toUserName: text(fields, 'ToUserName'),
    fromUserName: text(fields, 'FromUserName'),
    createTime: time(fields, 'CreateTime'),
    fields,
  };
  const event = text(fields, 'Event');
  if (msgType === 'event' && event === 'trade_manage_remind_access_api') {
    return { ...base, type: event, msg: text(fields, 'msg') };
  }
  if (msgType === 'event' && event === 'trade_manage_remind_shipping') {
    return { ...base, ...tradeRef(fields, event), type: event, msg: text(fields, 'msg') };
  }
  if (msgType === 'event' && event === 'trade_manage_order_settlement') {
    const settlementTime = time(fields, 'settlement_time');
    return {
      ...base,
      ...tradeRef(fields, event),
      type: event,
      stage: settlementTime ? 'settled' : 'shipped',
      shippedTime: time(fields, 'shipped_time'),
      estimatedSettlementTime: time(fields, 'estimated_settlement_time'),
      confirmReceiveMethod: integer(fields, 'confirm_receive_method'),
      confirmReceiveTime: time(fields, 'confirm_receive_time'),
      settlementTime,
    };
  }
  return { ...base, type: 'generic', msgType, event };
}

function tradeRef(fields: PushFields, event: string): TradeRef {
  const transactionId = text(fields, 'transaction_id');
  const merchantId = text(fields, 'merchant_id');
  const merchantTradeNo = text(fields, 'merchant_trade_no');
  const payTime = time(fields, 'pay_time');
  if (!transactionId || !merchantId || !merchantTradeNo || !payTime) {
    throw malformed(
      `${event} lacks transaction_id, merchant_id, merchant_trade_no or pay_time: it cannot be matched to an order`,
    );
  }
  return {
    transactionId,
    merchantId,
    subMerchantId: text(fields, 'sub_merchant_id'),
    merchantTradeNo,
    payTime,
  };
}

/** A non-empty string field (numbers are taken as their digits: ids may arrive either way). */
function text(fields: PushFields, name: string): string | undefined {
  const v = fields[name];
  if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function integer(fields: PushFields, name: string): number | undefined {
  const v = fields[name];
  if (typeof v === 'number') return Number.isSafeInteger(v) ? v : undefined;
  return typeof v === 'string' && /^\d{1,15}$/.test(v) ? Number(v) : undefined;
}

/** Seconds since the epoch; 0 and absence both mean "not set". */
function time(fields: PushFields, name: string): Date | undefined {
  const seconds = integer(fields, name);
  return seconds ? new Date(seconds * 1000) : undefined;
}

function malformed(message: string): MiniProgramApiError {
  return new MiniProgramApiError('invalid', 'MALFORMED_MESSAGE', `message push: ${message}`);
}

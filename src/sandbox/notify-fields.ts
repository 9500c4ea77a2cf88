/**
 * What the sandbox's notifications say: the fields of a payment notification and the
 * plaintext of a refund notification's `req_info`, from what happened to the trade or refund.
 * Signing, encryption and the XML are the protocol layer's (`buildPaymentNotify`,
 * `encryptReqInfo` / `buildRefundNotify`); this file only decides the content.
 */
import { beijingDateTime, nonce } from '../wechatpay/index.js';
import { paymentFields } from './payment-fields.js';
import type { RefundRow } from './state/refund-store.js';
import type { TradeRow } from './state/trade-store.js';

type Fields = Record<string, string | number>;

/**
 * A payment notification's fields, without `sign` (official field list, WxJava
 * `WxPayOrderNotifyResult`). No `sign_type`: WeChat leaves it out even for HMAC-SHA256
 * trades, so merchants must verify with the sign type they ordered with.
 */
export function paymentNotifyFields(trade: TradeRow): Fields {
  if (trade.transaction_id === null || trade.paid_at === null) {
    throw new TypeError(`trade ${trade.out_trade_no} is not paid; there is nothing to notify`);
  }
  const fields: Fields = {
    return_code: 'SUCCESS',
    return_msg: 'OK',
    appid: trade.appid,
    mch_id: trade.mch_id,
    nonce_str: nonce(),
    result_code: 'SUCCESS',
    ...paymentFields(trade),
    transaction_id: trade.transaction_id,
  };
  if (trade.attach !== null) fields.attach = trade.attach;
  if (trade.device_info !== null) fields.device_info = trade.device_info;
  return fields;
}

/**
 * The plaintext fields of a refund notification's `req_info` (root `<root>`; official
 * refund notify doc). `success_time` only for SUCCESS.
 */
export function refundNotifyInfo(refund: RefundRow): Fields {
  const info: Fields = {
    transaction_id: refund.transaction_id,
    out_trade_no: refund.out_trade_no,
    refund_id: refund.refund_id,
    out_refund_no: refund.out_refund_no,
    total_fee: refund.total_fee,
    settlement_total_fee: refund.total_fee,
    refund_fee: refund.refund_fee,
    settlement_refund_fee: refund.refund_fee,
    cash_refund_fee: refund.refund_fee,
    refund_status: refund.status,
    refund_recv_accout: refund.recv_account,
    refund_account: refund.refund_account,
    refund_request_source: refund.source,
  };
  if (refund.status === 'SUCCESS' && refund.settled_at !== null) {
    info.success_time = beijingDateTime(new Date(refund.settled_at));
  }
  return info;
}

/** The outer (unencrypted) fields of a refund notification, without `req_info`. */
export function refundNotifyEnvelope(refund: RefundRow, appId: string): Fields {
  return { return_code: 'SUCCESS', appid: appId, mch_id: refund.mch_id, nonce_str: nonce() };
}

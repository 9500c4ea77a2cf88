/**
 * Validly signed APIv2 payment notifies, one per order so no two requests are alike, built by
 * the protocol layer's `buildPaymentNotify` (the sandbox's notifier sends the same): MD5
 * signature, no sign_type, amounts as digits.
 */
import { randomBytes } from 'node:crypto';
import { beijingCompact, buildPaymentNotify, nonce } from '../../src/wechatpay/index.js';

export interface Merchant {
  appId: string;
  mchId: string;
  mchKey: string;
}

export interface PendingOrder {
  outTradeNo: string;
  totalFen: number;
  openid: string;
}

/** The signed notify WeChat would send once `order` is paid. */
export function paymentNotifyXml(merchant: Merchant, order: PendingOrder): string {
  return buildPaymentNotify(
    {
      appid: merchant.appId,
      bank_type: 'OTHERS',
      cash_fee: order.totalFen,
      fee_type: 'CNY',
      is_subscribe: 'N',
      mch_id: merchant.mchId,
      nonce_str: nonce(),
      openid: order.openid,
      out_trade_no: order.outTradeNo,
      result_code: 'SUCCESS',
      return_code: 'SUCCESS',
      time_end: beijingCompact(new Date()),
      total_fee: order.totalFen,
      trade_type: 'JSAPI',
      transaction_id: `42000${randomBytes(12).toString('hex').slice(0, 23).replace(/[a-f]/g, '7')}`,
    },
    merchant.mchKey,
    'MD5',
  );
}

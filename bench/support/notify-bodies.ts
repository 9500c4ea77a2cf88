/**
 * Validly signed APIv2 payment notifies, shaped as WeChat sends them (string values in CDATA,
 * numbers bare, MD5 signature, no sign_type), one per order so no two requests are alike.
 */
import { randomBytes } from 'node:crypto';
import { beijingCompact, nonce, signV2 } from '../../src/wechatpay/index.js';

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
  const fields: Record<string, string | number> = {
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
  };
  fields.sign = signV2(fields, merchant.mchKey);
  let xml = '<xml>';
  for (const [name, value] of Object.entries(fields)) {
    xml +=
      typeof value === 'number'
        ? `<${name}>${value}</${name}>`
        : `<${name}><![CDATA[${value}]]></${name}>`;
  }
  return `${xml}</xml>`;
}

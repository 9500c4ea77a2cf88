/**
 * The payment's fields that an orderquery answer and a payment notification both carry, typed
 * the same way in both (amounts in fen, time_end as a Date). Internal to the protocol layer.
 */
import { parseOptionalFen } from './amounts.js';
import { parseBeijingTime } from './ids.js';
import type { XmlFields } from './xml.js';

export function paymentFields(f: XmlFields) {
  return {
    transactionId: f.transaction_id || undefined,
    totalFee: parseOptionalFen('total_fee', f.total_fee),
    cashFee: parseOptionalFen('cash_fee', f.cash_fee),
    feeType: f.fee_type || undefined,
    openid: f.openid || undefined,
    isSubscribe: f.is_subscribe || undefined,
    tradeType: f.trade_type || undefined,
    bankType: f.bank_type || undefined,
    attach: f.attach || undefined,
    timeEnd: f.time_end ? parseBeijingTime(f.time_end) : undefined,
  };
}

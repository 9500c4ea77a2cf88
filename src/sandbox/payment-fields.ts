/**
 * A paid trade's payment as WeChat reports it: the same fields in an orderquery answer
 * (trades.ts) and in the payment notification (notify-fields.ts).
 */
import { beijingCompact } from '../wechatpay/index.js';
import type { TradeRow } from './state/trade-store.js';

export function paymentFields(trade: TradeRow) {
  return {
    openid: trade.openid,
    is_subscribe: trade.is_subscribe ?? 'N',
    trade_type: trade.trade_type,
    bank_type: trade.bank_type ?? 'OTHERS',
    total_fee: trade.total_fee,
    fee_type: trade.fee_type,
    cash_fee: trade.total_fee,
    transaction_id: trade.transaction_id,
    out_trade_no: trade.out_trade_no,
    time_end: beijingCompact(new Date(trade.paid_at ?? 0)),
  };
}

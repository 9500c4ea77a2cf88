import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  paymentNotifyFields,
  refundNotifyEnvelope,
  refundNotifyInfo,
} from '../../src/sandbox/notify-fields.js';
import { engineFor } from './engine-support.js';

/** 2026-03-10 12:30:05 Beijing. */
const NOON = Date.UTC(2026, 2, 10, 4, 30, 5);

describe('notification content', () => {
  test('a payment notification carries the trade as WeChat reports it, without sign_type', (t) => {
    const s = engineFor(t, NOON);
    const trade = s.pay('NOTIFYFIELDS1', 1999, { attach: '附加', device_info: 'WEB' });
    const { nonce_str, ...fields } = paymentNotifyFields(trade);
    assert.match(String(nonce_str), /^[A-Za-z0-9]{32}$/);
    assert.deepEqual(fields, {
      return_code: 'SUCCESS',
      return_msg: 'OK',
      appid: s.core.credentials.appId,
      mch_id: s.core.credentials.mchId,
      result_code: 'SUCCESS',
      openid: 'oBillUser',
      is_subscribe: 'N',
      trade_type: 'JSAPI',
      bank_type: 'OTHERS',
      total_fee: 1999,
      fee_type: 'CNY',
      cash_fee: 1999,
      transaction_id: trade.transaction_id,
      out_trade_no: 'NOTIFYFIELDS1',
      time_end: '20260310123005',
      attach: '附加',
      device_info: 'WEB',
    });
  });

  test('an unpaid trade has no payment notification', (t) => {
    const s = engineFor(t, NOON);
    const trade = s.pay('NOTIFYFIELDS2', 1);
    assert.throws(() => paymentNotifyFields({ ...trade, transaction_id: null }), /is not paid/);
  });

  test("a refund notification's req_info: the refund, its source, and success_time only on SUCCESS", (t) => {
    const s = engineFor(t, NOON);
    s.pay('NOTIFYFIELDS3', 1000);
    const refund = s.refund('NOTIFYFIELDS3', 'RFIELDS1', 300);
    assert.deepEqual(refundNotifyInfo(refund), {
      transaction_id: refund.transaction_id,
      out_trade_no: 'NOTIFYFIELDS3',
      refund_id: refund.refund_id,
      out_refund_no: 'RFIELDS1',
      total_fee: 1000,
      settlement_total_fee: 1000,
      refund_fee: 300,
      settlement_refund_fee: 300,
      cash_refund_fee: 300,
      refund_status: 'SUCCESS',
      refund_recv_accout: '支付用户零钱',
      refund_account: 'REFUND_SOURCE_UNSETTLED_FUNDS',
      refund_request_source: 'API',
      success_time: '2026-03-10 12:30:05',
    });
    assert.equal(refundNotifyInfo({ ...refund, status: 'CHANGE' }).success_time, undefined);
    const envelope = refundNotifyEnvelope(refund, s.core.credentials.appId);
    assert.deepEqual(Object.keys(envelope), ['return_code', 'appid', 'mch_id', 'nonce_str']);
    assert.equal(
      'sign' in envelope,
      false,
      'refund notifications are not signed; req_info is encrypted',
    );
  });
});

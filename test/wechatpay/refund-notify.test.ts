import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  buildRefundNotify,
  decryptReqInfo,
  encodeXml,
  encryptReqInfo,
  readRefundNotify,
} from '../../src/wechatpay/index.js';
import { refusal } from './support.js';

const KEY = '192006250b4c09247ec02edce69f6a2d';
// The vector made for minipay's tests (docs/wechat-rules.md, "Refund notifications").
const PLAIN =
  '<root><out_refund_no><![CDATA[R001]]></out_refund_no><refund_status><![CDATA[SUCCESS]]></refund_status></root>';
const REQ_INFO =
  'WBzGpzQuNpcFxIlFjUUD9O1INQe1sr+wMG6wUR3vMtLc2oYUq/rZkvAzKWesMRgtHKW7OavuV/ysmp419fOa//sNqQ8QZ/QqGG7L7Ft26zOJT8KKGtIQhQk/aqUrb9asj3LpNFyDkPu7x8bcK2r8Fg==';

const MERCHANT = { mchKey: KEY, appId: 'wxd930ea5d5a258f4f', mchId: '10000100' };
const ENVELOPE = {
  return_code: 'SUCCESS',
  appid: MERCHANT.appId,
  mch_id: MERCHANT.mchId,
  nonce_str: 'n0nce',
};
const INFO = {
  transaction_id: '4200000215201811190261405420',
  out_trade_no: '71106718111915575302817',
  refund_id: '50000408942018111907145868882',
  out_refund_no: '131811191610442717309',
  total_fee: 3960,
  settlement_total_fee: 3960,
  refund_fee: 3960,
  settlement_refund_fee: 3960,
  refund_status: 'SUCCESS',
  success_time: '2018-11-19 16:24:13',
  refund_recv_accout: '支付用户零钱',
  refund_account: 'REFUND_SOURCE_RECHARGE_FUNDS',
  refund_request_source: 'API',
};

describe('refund notify: req_info', () => {
  it('encrypts and decrypts the documented vector', () => {
    assert.equal(encryptReqInfo(PLAIN, KEY), REQ_INFO);
    assert.equal(decryptReqInfo(REQ_INFO, KEY), PLAIN);
  });

  it('refuses req_info that is not base64, not whole blocks, or for another key', () => {
    refusal(() => decryptReqInfo('not base64!', KEY), 'BAD_REQ_INFO');
    refusal(() => decryptReqInfo(Buffer.alloc(15).toString('base64'), KEY), 'BAD_REQ_INFO');
    refusal(() => decryptReqInfo(REQ_INFO, 'x'.repeat(32)), 'BAD_REQ_INFO');
  });
});

describe('refund notify: reading', () => {
  it('reads the official example fields, typed', () => {
    const n = readRefundNotify(buildRefundNotify(ENVELOPE, INFO, KEY), MERCHANT);
    assert.equal(n.outRefundNo, '131811191610442717309');
    assert.equal(n.refundStatus, 'SUCCESS');
    assert.equal(n.refundFee, 3960);
    assert.equal(n.totalFee, 3960);
    assert.equal(n.refundRecvAccount, '支付用户零钱');
    assert.equal(n.refundRequestSource, 'API');
    assert.equal(n.successTime?.toISOString(), '2018-11-19T08:24:13.000Z');
  });

  it('refuses a forged req_info, another merchant, and bad fields', () => {
    const forged = buildRefundNotify(ENVELOPE, INFO, 'y'.repeat(32));
    refusal(() => readRefundNotify(forged, MERCHANT), 'BAD_REQ_INFO');
    refusal(
      () =>
        readRefundNotify(
          buildRefundNotify({ ...ENVELOPE, mch_id: '10000101' }, INFO, KEY),
          MERCHANT,
        ),
      'WRONG_MERCHANT',
    );
    refusal(
      () =>
        readRefundNotify(
          buildRefundNotify(ENVELOPE, { ...INFO, refund_fee: '39.60' }, KEY),
          MERCHANT,
        ),
      'MALFORMED',
    );
    refusal(
      () =>
        readRefundNotify(
          buildRefundNotify(ENVELOPE, { ...INFO, refund_status: 'DONE' }, KEY),
          MERCHANT,
        ),
      'MALFORMED',
    );
    const { refund_id: _r, ...noId } = INFO;
    refusal(() => readRefundNotify(buildRefundNotify(ENVELOPE, noId, KEY), MERCHANT), 'MALFORMED');
    refusal(() => readRefundNotify(encodeXml(ENVELOPE), MERCHANT), 'MALFORMED');
  });

  it('refuses a plaintext that is not a flat <root> (e.g. DOCTYPE inside req_info)', () => {
    const evil = encryptReqInfo('<!DOCTYPE root [<!ENTITY x "y">]><root><a>&x;</a></root>', KEY);
    refusal(
      () => readRefundNotify(encodeXml({ ...ENVELOPE, req_info: evil }), MERCHANT),
      'XML_FORBIDDEN_MARKUP',
    );
    const wrongRoot = encryptReqInfo('<xml><out_refund_no>1</out_refund_no></xml>', KEY);
    refusal(
      () => readRefundNotify(encodeXml({ ...ENVELOPE, req_info: wrongRoot }), MERCHANT),
      'XML_WRONG_ROOT',
    );
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  buildPaymentNotify,
  encodeXml,
  isNotifyReplySuccess,
  notifyReplyXml,
  readPaymentNotify,
  signV2,
} from '../../src/wechatpay/index.js';
import { refusal } from './support.js';

const KEY = '192006250b4c09247ec02edce69f6a2d';
// The notify vector made for minipay's tests (docs/wechat-rules.md, "Payment notifications").
const VECTOR = {
  appid: 'wxd930ea5d5a258f4f',
  bank_type: 'OTHERS',
  cash_fee: '1',
  fee_type: 'CNY',
  is_subscribe: 'N',
  mch_id: '10000100',
  nonce_str: 'ibuaiVcKdpRxkhJA',
  openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
  out_trade_no: 'T20240101000001',
  result_code: 'SUCCESS',
  return_code: 'SUCCESS',
  time_end: '20240101120000',
  total_fee: '1',
  trade_type: 'JSAPI',
  transaction_id: '4200000000202401010000000001',
};
const MERCHANT = { key: KEY, appId: 'wxd930ea5d5a258f4f', mchId: '10000100' };
const MD5 = { ...MERCHANT, signType: 'MD5' as const };
const HMAC = { ...MERCHANT, signType: 'HMAC-SHA256' as const };

function signed(
  fields: Record<string, string>,
  signType: 'MD5' | 'HMAC-SHA256' = 'MD5',
  key = KEY,
) {
  return encodeXml({ ...fields, sign: signV2(fields, key, signType) });
}

describe('payment notify: building and reading', () => {
  it('signs the documented vector (MD5 and HMAC-SHA256)', () => {
    assert.match(
      buildPaymentNotify(VECTOR, KEY, 'MD5'),
      /<sign>D5C611CACE47A317934D865C46D91B48<\/sign>/,
    );
    assert.match(
      buildPaymentNotify(VECTOR, KEY, 'HMAC-SHA256'),
      /<sign>8CEB454980C0478FABD928E6B9B97D8D6331FF600EDCD67BB0D904E77E6F7318<\/sign>/,
    );
  });

  it('reads a signed notify into typed fields (fen, Beijing time)', () => {
    const n = readPaymentNotify(Buffer.from(buildPaymentNotify(VECTOR, KEY, 'MD5')), MD5);
    assert.equal(n.succeeded, true);
    assert.equal(n.outTradeNo, 'T20240101000001');
    assert.equal(n.transactionId, '4200000000202401010000000001');
    assert.equal(n.totalFee, 1);
    assert.equal(n.cashFee, 1);
    assert.equal(n.openid, 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o');
    assert.equal(n.timeEnd?.toISOString(), '2024-01-01T04:00:00.000Z');
    assert.equal(n.fields.sign, 'D5C611CACE47A317934D865C46D91B48');
  });

  it('verifies with the merchant sign type, whatever the message declares', () => {
    const hmac = buildPaymentNotify(VECTOR, KEY, 'HMAC-SHA256');
    assert.equal(readPaymentNotify(hmac, HMAC).totalFee, 1);
    refusal(() => readPaymentNotify(hmac, MD5), 'BAD_SIGNATURE');
    // A message signed with MD5 and declaring sign_type=MD5 is refused by an HMAC merchant.
    const downgraded = buildPaymentNotify({ ...VECTOR, sign_type: 'MD5' }, KEY, 'MD5');
    refusal(() => readPaymentNotify(downgraded, HMAC), 'BAD_SIGNATURE');
  });

  it('refuses a bad or missing signature, the wrong key, a changed amount', () => {
    refusal(() => readPaymentNotify(signed(VECTOR, 'MD5', 'x'.repeat(32)), MD5), 'BAD_SIGNATURE');
    refusal(() => readPaymentNotify(encodeXml(VECTOR), MD5), 'BAD_SIGNATURE');
    const tampered = buildPaymentNotify(VECTOR, KEY, 'MD5').replace(
      '<total_fee>1<',
      '<total_fee>2<',
    );
    refusal(() => readPaymentNotify(tampered, MD5), 'BAD_SIGNATURE');
    const lower = buildPaymentNotify(VECTOR, KEY, 'MD5').replace(
      /<sign>(\w+)</,
      (_, s: string) => `<sign>${s.toLowerCase()}<`,
    );
    refusal(() => readPaymentNotify(lower, MD5), 'BAD_SIGNATURE');
  });

  it("refuses another merchant's notify even when signed with our key", () => {
    refusal(
      () => readPaymentNotify(signed({ ...VECTOR, appid: 'wx0000000000000000' }), MD5),
      'WRONG_MERCHANT',
    );
    refusal(
      () => readPaymentNotify(signed({ ...VECTOR, mch_id: '10000101' }), MD5),
      'WRONG_MERCHANT',
    );
  });

  it('refuses amounts that are not plain digits', () => {
    for (const bad of ['1.0', '-1', '1e2', ' 1', '01', '0x10', '１', '99999999999999999']) {
      refusal(() => readPaymentNotify(signed({ ...VECTOR, total_fee: bad }), MD5), 'MALFORMED');
    }
    refusal(() => readPaymentNotify(signed({ ...VECTOR, cash_fee: '1,0' }), MD5), 'MALFORMED');
  });

  it('refuses missing fields, a bad time_end, return_code=FAIL and an unknown result_code', () => {
    const { transaction_id: _t, ...noTx } = VECTOR;
    refusal(() => readPaymentNotify(signed(noTx), MD5), 'MALFORMED');
    refusal(
      () => readPaymentNotify(signed({ ...VECTOR, time_end: '20241301120000' }), MD5),
      'MALFORMED',
    );
    refusal(
      () => readPaymentNotify(encodeXml({ return_code: 'FAIL', return_msg: 'x' }), MD5),
      'RETURN_FAIL',
    );
    refusal(() => readPaymentNotify(signed({ ...VECTOR, result_code: 'MAYBE' }), MD5), 'MALFORMED');
  });

  it('reads a result_code=FAIL notify as not succeeded', () => {
    const { transaction_id: _t, time_end: _e, ...rest } = VECTOR;
    const n = readPaymentNotify(
      signed({ ...rest, result_code: 'FAIL', err_code: 'PAYERROR' }),
      MD5,
    );
    assert.equal(n.succeeded, false);
    assert.equal(n.errCode, 'PAYERROR');
  });

  it('refuses hostile XML: DOCTYPE, entities, truncation, oversize, nesting, duplicates', () => {
    const good = buildPaymentNotify(VECTOR, KEY, 'MD5');
    refusal(
      () =>
        readPaymentNotify(`<!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]>${good}`, MD5),
      'XML_FORBIDDEN_MARKUP',
    );
    refusal(() => readPaymentNotify(good.replace('<openid>', '<openid>&x;'), MD5), 'XML_MALFORMED');
    refusal(() => readPaymentNotify(good.slice(0, good.length - 10), MD5), 'XML_MALFORMED');
    refusal(
      () => readPaymentNotify(`<xml><attach>${'a'.repeat(70_000)}</attach></xml>`, MD5),
      'XML_TOO_LARGE',
    );
    refusal(() => readPaymentNotify('<xml><a><b>1</b></a></xml>', MD5), 'XML_MALFORMED');
    refusal(
      () => readPaymentNotify(good.replace('</xml>', '<total_fee>9</total_fee></xml>'), MD5),
      'XML_DUPLICATE_FIELD',
    );
    refusal(() => readPaymentNotify('', MD5), 'XML_EMPTY');
  });
});

describe('notify replies', () => {
  it('builds the SUCCESS and FAIL replies', () => {
    assert.equal(
      notifyReplyXml(true),
      '<xml><return_code>SUCCESS</return_code><return_msg>OK</return_msg></xml>',
    );
    assert.equal(
      notifyReplyXml(false, 'try again later'),
      '<xml><return_code>FAIL</return_code><return_msg><![CDATA[try again later]]></return_msg></xml>',
    );
  });

  it('counts only HTTP 200 with XML return_code SUCCESS', () => {
    assert.equal(isNotifyReplySuccess(200, notifyReplyXml(true)), true);
    assert.equal(
      isNotifyReplySuccess(200, '<xml><return_code><![CDATA[SUCCESS]]></return_code></xml>'),
      true,
    );
    assert.equal(isNotifyReplySuccess(200, notifyReplyXml(false)), false);
    assert.equal(isNotifyReplySuccess(200, 'SUCCESS'), false);
    assert.equal(isNotifyReplySuccess(200, ''), false);
    assert.equal(isNotifyReplySuccess(204, notifyReplyXml(true)), false);
    assert.equal(isNotifyReplySuccess(500, notifyReplyXml(true)), false);
    assert.equal(isNotifyReplySuccess(200, '<xml><return_code>success</return_code></xml>'), false);
  });
});

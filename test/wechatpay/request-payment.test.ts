import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildRequestPayment, verifyRequestPayment } from '../../src/wechatpay/index.js';

// Official example of 小程序调起支付 (docs/wechat-rules.md, "wx.requestPayment paySign").
const OFFICIAL = {
  appId: 'wxd678efh567hg6787',
  prepayId: 'wx2017033010242291fcfe0db70013231072',
  key: 'qazwsxedcrfvtgbyhnujmikolp111111',
  signType: 'MD5' as const,
  timeStamp: '1490840662',
  nonceStr: '5K8264ILTKCH16CQ2502SI8ZNMTM67VS',
};

describe('wx.requestPayment parameters', () => {
  it('paySign matches the official vector', () => {
    const p = buildRequestPayment(OFFICIAL);
    assert.deepEqual(p, {
      appId: 'wxd678efh567hg6787',
      timeStamp: '1490840662',
      nonceStr: '5K8264ILTKCH16CQ2502SI8ZNMTM67VS',
      package: 'prepay_id=wx2017033010242291fcfe0db70013231072',
      signType: 'MD5',
      paySign: '22D9B4E54AB1950F51E0649E8810ACD6',
    });
    assert.equal(verifyRequestPayment(p, OFFICIAL.key), true);
  });

  it('fills a fresh timeStamp and nonceStr, and HMAC-SHA256 signs 64 hex digits', () => {
    const before = Math.floor(Date.now() / 1000);
    const p = buildRequestPayment({
      ...OFFICIAL,
      signType: 'HMAC-SHA256',
      timeStamp: undefined,
      nonceStr: undefined,
    });
    assert.ok(Number(p.timeStamp) >= before && Number(p.timeStamp) <= before + 2);
    assert.match(p.nonceStr, /^[A-Za-z0-9]{32}$/);
    assert.match(p.paySign, /^[0-9A-F]{64}$/);
    assert.equal(verifyRequestPayment(p, OFFICIAL.key), true);
  });

  it('verification fails for any changed field, the wrong key or another sign type', () => {
    const p = buildRequestPayment(OFFICIAL);
    assert.equal(verifyRequestPayment({ ...p, package: 'prepay_id=wx1' }, OFFICIAL.key), false);
    assert.equal(verifyRequestPayment({ ...p, timeStamp: '1490840663' }, OFFICIAL.key), false);
    assert.equal(verifyRequestPayment(p, 'qazwsxedcrfvtgbyhnujmikolp111112'), false);
    assert.equal(verifyRequestPayment({ ...p, signType: 'HMAC-SHA256' }, OFFICIAL.key), false);
    assert.equal(
      verifyRequestPayment({ ...p, paySign: p.paySign.toLowerCase() }, OFFICIAL.key),
      false,
    );
  });

  it('refuses an empty prepay_id or AppID', () => {
    assert.throws(() => buildRequestPayment({ ...OFFICIAL, prepayId: '' }), /prepayId is empty/);
    assert.throws(() => buildRequestPayment({ ...OFFICIAL, appId: '' }), /appId is empty/);
  });
});

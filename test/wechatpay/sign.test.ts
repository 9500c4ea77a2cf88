import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { constantTimeEqual, signV2, v2SignString, verifyV2 } from '../../src/wechatpay/sign.js';

// Official example of 安全规范 / 签名算法 (docs/wechat-rules.md, "Signatures").
const OFFICIAL = {
  appid: 'wxd930ea5d5a258f4f',
  mch_id: '10000100',
  device_info: '1000',
  body: 'test',
  nonce_str: 'ibuaiVcKdpRxkhJA',
};
const OFFICIAL_KEY = '192006250b4c09247ec02edce69f6a2d';

describe('v2 signature: official vectors', () => {
  it('builds the official stringSignTemp', () => {
    assert.equal(
      v2SignString(OFFICIAL, OFFICIAL_KEY),
      'appid=wxd930ea5d5a258f4f&body=test&device_info=1000&mch_id=10000100&nonce_str=ibuaiVcKdpRxkhJA&key=192006250b4c09247ec02edce69f6a2d',
    );
  });
  it('MD5 matches the official vector', () => {
    assert.equal(signV2(OFFICIAL, OFFICIAL_KEY, 'MD5'), '9A0A8659F005D6984697E2CA0A9CF3B7');
  });
  it('HMAC-SHA256 matches the official vector', () => {
    assert.equal(
      signV2(OFFICIAL, OFFICIAL_KEY, 'HMAC-SHA256'),
      '6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6',
    );
  });
  it('requestPayment paySign matches the official example (§2.12)', () => {
    const params = {
      appId: 'wxd678efh567hg6787',
      nonceStr: '5K8264ILTKCH16CQ2502SI8ZNMTM67VS',
      package: 'prepay_id=wx2017033010242291fcfe0db70013231072',
      signType: 'MD5',
      timeStamp: '1490840662',
    };
    assert.equal(
      signV2(params, 'qazwsxedcrfvtgbyhnujmikolp111111'),
      '22D9B4E54AB1950F51E0649E8810ACD6',
    );
  });
});

describe('v2 signature: what is empty', () => {
  const base = signV2(OFFICIAL, OFFICIAL_KEY);
  it('skips undefined, null and the empty string', () => {
    for (const empty of [undefined, null, '']) {
      assert.equal(signV2({ ...OFFICIAL, attach: empty }, OFFICIAL_KEY), base);
    }
  });
  it('signs 0 and whitespace as data', () => {
    assert.notEqual(signV2({ ...OFFICIAL, coupon_fee: 0 }, OFFICIAL_KEY), base);
    assert.notEqual(signV2({ ...OFFICIAL, attach: ' ' }, OFFICIAL_KEY), base);
    assert.notEqual(signV2({ ...OFFICIAL, body: ' test' }, OFFICIAL_KEY), base);
  });
  it('ignores an existing sign field', () => {
    assert.equal(signV2({ ...OFFICIAL, sign: 'X' }, OFFICIAL_KEY), base);
  });
});

describe('v2 verification', () => {
  const signed = { ...OFFICIAL, sign: '9A0A8659F005D6984697E2CA0A9CF3B7' };
  it('accepts the official message', () => {
    assert.equal(verifyV2(signed, OFFICIAL_KEY, 'MD5'), true);
  });
  it('rejects every single-field change', () => {
    for (const name of Object.keys(OFFICIAL) as (keyof typeof OFFICIAL)[]) {
      assert.equal(
        verifyV2({ ...signed, [name]: `${OFFICIAL[name]}x` }, OFFICIAL_KEY, 'MD5'),
        false,
        name,
      );
    }
  });
  it('turns bad sign values into false, never an exception', () => {
    for (const sign of [
      undefined,
      '',
      '9a0a8659f005d6984697e2ca0a9cf3b7',
      '9A0A',
      `${signed.sign}0`,
      'é'.repeat(16),
    ]) {
      assert.equal(verifyV2({ ...OFFICIAL, sign }, OFFICIAL_KEY, 'MD5'), false, String(sign));
    }
  });
  it('does not let the message choose the algorithm', () => {
    const hmac = { ...OFFICIAL, sign: signV2(OFFICIAL, OFFICIAL_KEY, 'HMAC-SHA256') };
    assert.equal(verifyV2(hmac, OFFICIAL_KEY, 'MD5'), false);
    assert.equal(verifyV2(hmac, OFFICIAL_KEY, 'HMAC-SHA256'), true);
  });
  it('compares in constant time with unequal lengths', () => {
    assert.equal(constantTimeEqual('abc', 'abcd'), false);
    assert.equal(constantTimeEqual('abcd', 'abcd'), true);
  });
});

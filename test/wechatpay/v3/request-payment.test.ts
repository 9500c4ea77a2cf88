/**
 * `wx.requestPayment` with `signType: "RSA"`: the official vectors (docs/wechat-rules.md), and
 * the check WeChat (and the sandbox) makes of `paySign`.
 */
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { describe, it } from 'node:test';
import { v3 } from '../../../src/wechatpay/index.js';
import { identities, OFFICIAL_KEY, OFFICIAL_SERIAL } from './support.js';

const signer = v3.createRsaSigner({ privateKey: OFFICIAL_KEY, serialNo: OFFICIAL_SERIAL });
const MINI_PROGRAM =
  'mI35pfNEQV6777ke/1T+LJLQDNTm7yeoUJH+j/adPGhmCCi0PbgkvYQTRcXH0uibcLVtvFLdGLpmoYO9FV6lBBsTAjuhh5YOvQi0e2g3e0yytitiNET9FEuqM0pjnKfRW4K6LIZDdbWJv9KhZUx3DrJa5TL7OJ7VdADVivxVySIlPVKjGwuCXzuXSJes0UcILgWQUMyha5/3nYofuHtS7r+KYyMuxD+oJ9VM1Qdxk4UIG59CP5Y3wtYIFybyF3bdu1caHTRRX+DLyMXyYA/IrTmiW01c4RPjpHBX5Dk1sZyY1zVsWNsvMHr2e1NTWtBxKJ+qk5N61J7caYoepHFaxw==';
const APP =
  'gXx9KhTP6IooKV1SuG3OCGlBIgZbKtubCZvnau6khw1iffvNT28IzLbKmztq2xA/RCNbZa1XOsoiuVmAEeTZQicWfhv4P+O4oBRIrx0X9f3cnWFkMBU9alTWs0nyQ1N9fcILOTe0f4kxOhVh+/Xhn5hOiUK7Sz3XA1mcpa3R2NCWf/e+0ow/RDf15iTymOHgDrEkT/gedg/3E0iXfDX3mFicSZhrHESZDOTXcl9RzELREBUFznd/o2NQM99WcL86m23HY0cTy+QGWU4QDmNrbQ9ihmLW71qPb0Cx/d7EQvw/Kyx0A6s64ZQp3hHdcmiRcLnjVXrKCk7LShaCK+lS3Q==';

describe('wx.requestPayment with signType RSA', () => {
  it('reproduces the official mini program vector', () => {
    const params = v3.buildRequestPaymentV3({
      appId: 'wx2421b1c4370ec43b',
      prepayId: 'wx201410272009395522657a690389285100',
      signer,
      timeStamp: '1554208460',
      nonceStr: '593BEC0C930BF1AFEB40B4A08C8FB242',
    });
    assert.deepEqual(params, {
      appId: 'wx2421b1c4370ec43b',
      timeStamp: '1554208460',
      nonceStr: '593BEC0C930BF1AFEB40B4A08C8FB242',
      package: 'prepay_id=wx201410272009395522657a690389285100',
      signType: 'RSA',
      paySign: MINI_PROGRAM,
    });
    assert.ok(v3.verifyRequestPaymentV3(params, createPublicKey(OFFICIAL_KEY)));
  });

  it('reproduces the official APP vector (the bare prepay_id on the 4th line), by the same message', () => {
    const message = v3.requestPaymentMessage(
      'wx2421b1c4370ec43b',
      '1554208460',
      '593BEC0C930BF1AFEB40B4A08C8FB242',
      'wx201410272009395522657a690389285100',
    );
    assert.equal(signer.sign(message).signature, APP);
  });

  it('verifies paySign with the merchant certificate, and refuses any change', async () => {
    const { merchant } = await identities();
    const params = v3.buildRequestPaymentV3({
      appId: 'wx1',
      prepayId: 'wx2',
      signer: merchant.signer,
    });
    assert.match(params.nonceStr, /^[A-Za-z0-9]{32}$/);
    assert.ok(v3.verifyRequestPaymentV3(params, merchant.certificatePem));
    for (const changed of [
      { ...params, package: 'prepay_id=wx3' },
      { ...params, timeStamp: String(Number(params.timeStamp) + 1) },
      { ...params, appId: 'wx9' },
      { ...params, signType: 'MD5' as 'RSA' },
      { ...params, paySign: `${params.paySign.slice(0, -4)}AAA=` },
      { ...params, paySign: 'short' },
    ]) {
      assert.equal(v3.verifyRequestPaymentV3(changed, merchant.certificatePem), false);
    }
  });
});

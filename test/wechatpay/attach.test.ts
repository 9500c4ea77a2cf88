/**
 * `attachProblem`, the one rule for `attach` (the checkout API and the v2 client both use it),
 * and the Int ceiling of `total_fee` / `refund_fee`: the client refuses both before sending.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { attachProblem, MAX_ATTACH_BYTES, MAX_TOTAL_FEE } from '../../src/wechatpay/index.js';
import { FakeWechat, fakeClient, rejectsWith } from './support.js';

const REFUSED: [string, string, RegExp][] = [
  ['empty', '', /empty/],
  ['128 bytes', 'A'.repeat(128), /128 bytes/],
  ['43 Chinese characters (129 bytes)', '桌'.repeat(43), /129 bytes/],
  ['leading space', ' table 4', /whitespace/],
  ['trailing space', 'table 4 ', /whitespace/],
  ['ideographic space padding', '\u3000桌4', /whitespace/],
  ['NUL', 'table\u00004', /control/],
  ['line break', 'table\n4', /control/],
  ['carriage return', 'table\r4', /control/],
  ['tab', 'a\tb', /control/],
  ['escape', 'a\u001bb', /control/],
  ['DEL', 'a\u007fb', /control/],
  ['C1 control (NEL)', 'a\u0085b', /control/],
  ['U+FFFE', 'a\ufffeb', /FFFE/],
  ['U+FFFF', 'a\uffffb', /FFFE/],
  ['lone high surrogate', 'a\ud800b', /surrogate/],
  ['lone low surrogate', 'a\udc00', /surrogate/],
];

const ACCEPTED = [
  'table 4',
  '支付测试 & <x> "quoted" \'single\' ]]>',
  '桌'.repeat(42), // 126 bytes
  `${'A'.repeat(MAX_ATTACH_BYTES - 4)}😀`, // 127 bytes with a surrogate pair
  '{"coupon":"C-1","seat":12}',
];

describe('attach: what WeChat can return unchanged', () => {
  for (const [what, value, reason] of REFUSED) {
    test(`refused: ${what}`, () => {
      assert.match(attachProblem(value) ?? 'accepted', reason);
    });
  }
  test('accepted: text, Chinese up to 127 bytes, emoji, XML-looking text', () => {
    for (const value of ACCEPTED) assert.equal(attachProblem(value), null, value);
  });

  test('the v2 client refuses each before sending; the largest Int goes out', async (t) => {
    const fake = await FakeWechat.start(t);
    const client = fakeClient(t, fake);
    const request = {
      body: 'minipay - tea',
      outTradeNo: 'MP20261122160000K7Q2M8X4ZP3T9W5R',
      totalFee: 100,
      spbillCreateIp: '203.0.113.7',
      notifyUrl: 'https://pay.example.com/wechatpay/v2/notify',
      openid: 'oUser',
    };
    for (const [what, attach] of REFUSED) {
      const err = await rejectsWith(
        client.unifiedOrder({ ...request, attach }),
        'rejected',
        'INVALID_ARGUMENT',
      );
      assert.match(err.message, /attach/, what);
    }
    const total = await rejectsWith(
      client.unifiedOrder({ ...request, totalFee: MAX_TOTAL_FEE + 1 }),
      'rejected',
      'INVALID_ARGUMENT',
    );
    assert.match(total.message, /totalFee must be a whole number of fen from 1 to 2147483647/);
    const refund = await rejectsWith(
      client.refund({
        outTradeNo: request.outTradeNo,
        outRefundNo: 'RF20261122160000K7Q2M8X4ZP3T9W',
        totalFee: MAX_TOTAL_FEE + 1,
        refundFee: 1,
      }),
      'rejected',
      'INVALID_ARGUMENT',
    );
    assert.match(refund.message, /totalFee must be/);
    // The largest Int goes out.
    fake.answer = () => ({ body: '<xml><return_code>FAIL</return_code></xml>' });
    await client.unifiedOrder({ ...request, totalFee: MAX_TOTAL_FEE }).catch(() => undefined);
    assert.equal(fake.requests.length, 1);
    assert.equal(fake.requests[0]?.total_fee, '2147483647');
  });
});

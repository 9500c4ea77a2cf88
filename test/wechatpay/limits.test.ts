import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fitsLimit, fitUtf8, TEXT_LIMITS, utf8Length } from '../../src/wechatpay/index.js';

test('WeChat counts bytes of UTF-8: a Chinese character is 3, an emoji 4', () => {
  assert.equal(utf8Length('tea'), 3);
  assert.equal(utf8Length('茶'), 3);
  assert.equal(utf8Length('🍵'), 4);
  assert.equal(fitsLimit('body', '茶'.repeat(42)), true);
  assert.equal(fitsLimit('body', '茶'.repeat(43)), false);
  assert.equal(fitsLimit('refund_desc', '退'.repeat(26)), true);
  assert.equal(fitsLimit('refund_desc', '退'.repeat(27)), false);
  assert.deepEqual(TEXT_LIMITS, { body: 127, attach: 127, detail: 6000, refund_desc: 80 });
});

test('fitUtf8 leaves what fits alone and cuts between characters, ellipsis included', () => {
  assert.equal(fitUtf8('short', 127), 'short');
  const cut = fitUtf8('茶'.repeat(60), 127);
  assert.equal(cut, `${'茶'.repeat(41)}…`);
  assert.equal(utf8Length(cut), 126);
  const mixed = fitUtf8(`minipay - ${'茶'.repeat(50)}`, 127);
  assert.ok(utf8Length(mixed) <= 127);
  assert.ok(mixed.endsWith('…'));
  assert.ok(!mixed.includes('\uFFFD'));
});

test('fitUtf8 never splits a surrogate pair or an emoji sequence', () => {
  const family = '👨‍👩‍👧‍👦'; // one grapheme, 25 bytes
  for (let max = 4; max < 40; max++) {
    const cut = fitUtf8(`${family}${family}ab`, max);
    assert.ok(utf8Length(cut) <= max, `${max}`);
    const rest = cut.replace(/…$/, '');
    assert.ok(rest === '' || rest === family || rest === family + family, `${max}: ${rest}`);
  }
  assert.throws(() => fitUtf8('abcdef', 2), RangeError);
});

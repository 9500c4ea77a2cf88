/** The console's refund dialog rules (web/admin/refund-form.ts): amounts and the idempotency key. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  afterFailure,
  newRefundForm,
  refundableFen,
  refundRequest,
} from '../../web/admin/refund-form.js';
import { parseYuan, yuan } from '../../web/common/format.js';

describe('refund dialog rules', () => {
  test('yuan typed by a person becomes integer fen; anything else is refused', () => {
    assert.equal(parseYuan('12'), 1200);
    assert.equal(parseYuan('12.5'), 1250);
    assert.equal(parseYuan(' 0.07 '), 7);
    for (const bad of ['', '1.234', '-1', '1e3', '12,5', 'abc', '0x10']) {
      assert.equal(parseYuan(bad), undefined, bad);
    }
    assert.equal(yuan(1250), '¥12.50');
    assert.equal(yuan(7), '¥0.07');
  });

  test('full refunds what is left; partial is checked against it', () => {
    const order = { totalFen: 12800, refundedFen: 2850 };
    const left = refundableFen(order);
    assert.equal(left, 9950);
    const form = newRefundForm();
    assert.deepEqual(refundRequest(form, left), { ok: true, body: { amountFen: 9950 } });
    const partial = { ...form, mode: 'partial' as const, amountText: '10', reason: ' 破损 ' };
    assert.deepEqual(refundRequest(partial, left), {
      ok: true,
      body: { amountFen: 1000, reason: '破损' },
    });
    assert.deepEqual(refundRequest({ ...partial, amountText: '99.51' }, left), {
      ok: false,
      problem: 'amount_too_large',
    });
    assert.deepEqual(refundRequest({ ...partial, amountText: '0' }, left), {
      ok: false,
      problem: 'amount_invalid',
    });
    assert.deepEqual(refundRequest({ ...partial, reason: 'x'.repeat(81) }, left), {
      ok: false,
      problem: 'reason_too_long',
    });
    // WeChat counts refund_desc in bytes of UTF-8: 27 Chinese characters are 81.
    assert.deepEqual(refundRequest({ ...partial, reason: '退'.repeat(27) }, left), {
      ok: false,
      problem: 'reason_too_long',
    });
    assert.equal(refundRequest({ ...partial, reason: '退'.repeat(26) }, left).ok, true);
    assert.deepEqual(refundRequest(form, 0), { ok: false, problem: 'amount_invalid' });
  });

  test('one key per dialog: kept (and the body locked) after an ambiguous failure, new after a refusal', () => {
    const form = newRefundForm();
    assert.match(form.key, /^[\x21-\x7e]{16,255}$/);
    assert.notEqual(newRefundForm().key, form.key, 'each dialog has its own key');
    const lost = afterFailure(form, true);
    assert.equal(lost.key, form.key, 'a retry after no answer sends the same key');
    assert.equal(lost.locked, true);
    const refused = afterFailure(lost, false);
    assert.notEqual(refused.key, form.key, 'after a definite refusal the next try is new');
    assert.equal(refused.locked, false);
  });
});

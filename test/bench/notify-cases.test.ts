/**
 * The notify cases of the peer SDK benchmark are what their titles say, and minipay's notify
 * reader gets every one of them right (the benchmark's minipay column is this test's result).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MD5_MERCHANT, notifyCases, validNotify } from '../../bench/support/notify-cases.js';
import { minipay } from '../../bench/support/peer-sdks.js';
import { decodeXml, readPaymentNotify, verifyV2 } from '../../src/wechatpay/index.js';

const cases = new Map(notifyCases().map((c) => [c.id, c]));
function reading(id: string, label: string): string {
  const body = cases.get(id)?.readings.find((r) => r.label === label)?.body;
  assert.ok(body, `${id} / ${label}`);
  return body;
}

describe('peer benchmark notify cases', () => {
  it('minipay accepts every accept case and refuses every reading of a refuse case', () => {
    const lib = minipay();
    for (const c of cases.values()) {
      for (const r of c.readings) {
        assert.equal(
          lib.readNotify(r.body, c.merchant),
          c.expect === 'accept',
          `${c.id} / ${r.label}`,
        );
      }
    }
  });

  it('the valid notify reads as the paid order it describes', () => {
    const n = readPaymentNotify(validNotify(MD5_MERCHANT), MD5_MERCHANT);
    assert.equal(n.totalFee, 1999);
    assert.equal(n.succeeded, true);
  });

  it('keeps the spaces it is about, signed as they travel', () => {
    const f = decodeXml(reading('spaces', 'signed as sent'));
    assert.equal(f.attach, '  gift for Lee ');
    assert.ok(verifyV2(f, MD5_MERCHANT.key, 'MD5'));
  });

  it('signs the downgrade bodies with the right key, so only the algorithm is wrong', () => {
    for (const label of ['sign_type=MD5', 'no sign_type']) {
      const f = decodeXml(reading('downgrade', label));
      assert.ok(verifyV2(f, MD5_MERCHANT.key, 'MD5'), label);
    }
  });

  it('refuses the DOCTYPE body only for its DOCTYPE: without it the same body verifies', () => {
    const body = reading('doctype', 'DOCTYPE only');
    const bare = body.slice(body.indexOf('<xml>'));
    assert.notEqual(bare, body);
    assert.doesNotThrow(() => readPaymentNotify(bare, MD5_MERCHANT));
  });

  it('refuses the duplicate only for the second field: without it the body verifies', () => {
    const body = reading('duplicate', 'first wins');
    const single = body.replace('<total_fee>100000</total_fee>', '');
    assert.notEqual(single, body);
    assert.doesNotThrow(() => readPaymentNotify(single, MD5_MERCHANT));
  });
});

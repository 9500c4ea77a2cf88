import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  MAX_REFUNDS_PER_ORDER,
  type RefundLedger,
  refundableFen,
  refundedStatus,
  refusalFor,
} from '../../../src/payments/refunds/refund-amounts.js';

const ledger = (over: Partial<RefundLedger> = {}): RefundLedger => ({
  paidFen: 1000,
  succeededFen: 0,
  inFlightFen: 0,
  refundCount: 0,
  ...over,
});

describe('refund arithmetic', () => {
  it('refundable = paid - succeeded - in flight', () => {
    assert.equal(refundableFen(ledger()), 1000);
    assert.equal(refundableFen(ledger({ succeededFen: 300, inFlightFen: 200 })), 500);
    assert.equal(refundableFen(ledger({ succeededFen: 1000 })), 0);
  });
  it('admits exactly the remaining amount and refuses 1 fen more', () => {
    const l = ledger({ succeededFen: 300, inFlightFen: 200, refundCount: 2 });
    assert.equal(refusalFor(500, l), null);
    assert.equal(refusalFor(501, l)?.code, 'REFUND_EXCEEDS_PAID');
    assert.match(refusalFor(501, l)?.message ?? '', /at most 500 fen/);
  });
  it('counts in-flight refunds: a second 60 % refund never fits', () => {
    assert.equal(refusalFor(600, ledger()), null);
    assert.equal(
      refusalFor(600, ledger({ inFlightFen: 600, refundCount: 1 }))?.code,
      'REFUND_EXCEEDS_PAID',
    );
  });
  it('says when nothing is left, and why', () => {
    assert.equal(refusalFor(1, ledger({ succeededFen: 1000 }))?.code, 'ORDER_FULLY_REFUNDED');
    assert.match(
      refusalFor(1, ledger({ inFlightFen: 1000 }))?.message ?? '',
      /still being refunded/,
    );
  });
  it('refuses amounts that are not positive whole fen', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, 2 ** 60]) {
      assert.equal(refusalFor(bad, ledger())?.code, 'VALIDATION_FAILED', String(bad));
    }
  });
  it("stops at WeChat's 50 refunds per order", () => {
    const l = ledger({ succeededFen: 50, refundCount: MAX_REFUNDS_PER_ORDER });
    assert.equal(refusalFor(1, l)?.code, 'TOO_MANY_REFUNDS');
    assert.equal(refusalFor(1, { ...l, refundCount: MAX_REFUNDS_PER_ORDER - 1 }), null);
  });
  it('maps settled refunds to the order status', () => {
    assert.equal(refundedStatus(1000, 0), 'PAID');
    assert.equal(refundedStatus(1000, 999), 'PARTIALLY_REFUNDED');
    assert.equal(refundedStatus(1000, 1000), 'REFUNDED');
  });
});

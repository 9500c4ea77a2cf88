import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { beijingDayStart, billRecords, feeMilliFen } from '../../src/sandbox/bill-records.js';
import { engineFor } from './engine-support.js';

const DAY = 24 * 3600 * 1000;
const TEN_HOURS = 10 * 3600 * 1000;
/** 2026-03-10 00:00 Beijing. */
const MARCH_10 = Date.UTC(2026, 2, 9, 16);

describe('bill rows', () => {
  test('Beijing days: 00:00 +08:00 is 16:00 UTC the day before; invalid dates are refused', () => {
    assert.equal(beijingDayStart('20260310'), MARCH_10);
    for (const bad of ['2026031', '20260230', '20261301', '2026-03-10', 'abcdefgh']) {
      assert.equal(beijingDayStart(bad), undefined, bad);
    }
  });

  test('the fee is 0.60% rounded to the fen, in 1/1000 fen (6.00 → 0.04000)', () => {
    assert.equal(feeMilliFen(600), 4000);
    assert.equal(feeMilliFen(1), 0);
    assert.equal(feeMilliFen(84), 1000);
    assert.equal(feeMilliFen(83), 0);
  });

  test('trades are in the bill of the day they were paid; refunds of the day they succeeded', (t) => {
    const s = engineFor(t, MARCH_10 + 1000);
    s.pay('DAY1ORDER01', 600, { attach: 'a1' });
    s.at(MARCH_10 + DAY - 1); // 23:59:59.999 the same day
    s.pay('DAY1ORDER02', 100);
    s.at(MARCH_10 + DAY + 5000); // the next day
    s.refund('DAY1ORDER01', 'RF01', 200);
    s.at(MARCH_10 + DAY + 6000);
    s.pay('DAY2ORDER01', 300);
    s.at(MARCH_10 + 2 * DAY + TEN_HOURS); // both bills are out

    const day1 = billRecords(s.core, '20260310', 'ALL');
    assert.ok(day1.ok);
    assert.deepEqual(
      day1.records.map((r) => [r.kind, r.outTradeNo, r.tradeState]),
      [
        ['trade', 'DAY1ORDER01', 'SUCCESS'],
        ['trade', 'DAY1ORDER02', 'SUCCESS'],
      ],
    );
    const first = day1.records[0]!;
    assert.equal(first.totalFen, 600);
    assert.equal(first.feeMilliFen, 4000);
    assert.equal(first.attach, 'a1');
    assert.equal(first.rate, '0.60%');
    assert.equal(first.tradeTime, MARCH_10 + 1000);

    const day2 = billRecords(s.core, '20260311', 'ALL');
    assert.ok(day2.ok);
    assert.deepEqual(
      day2.records.map((r) => [r.kind, r.outTradeNo, r.outRefundNo]),
      [
        ['refund', 'DAY1ORDER01', 'RF01'],
        ['trade', 'DAY2ORDER01', null],
      ],
    );
    const refund = day2.records[0]!;
    assert.equal(refund.tradeState, 'REFUND');
    assert.equal(refund.refundFen, 200);
    assert.equal(refund.feeMilliFen, -1000);
    assert.equal(refund.refundType, 'ORIGINAL');
    assert.equal(refund.refundState, 'SUCCESS');
    assert.equal(refund.tradeTime, MARCH_10 + 1000, '交易时间 is the payment time');

    const onlyRefunds = billRecords(s.core, '20260311', 'REFUND');
    assert.ok(onlyRefunds.ok);
    assert.deepEqual(
      onlyRefunds.records.map((r) => r.kind),
      ['refund'],
    );
    const onlyTrades = billRecords(s.core, '20260311', 'SUCCESS');
    assert.ok(onlyTrades.ok);
    assert.deepEqual(
      onlyTrades.records.map((r) => r.kind),
      ['trade'],
    );
    const recharge = billRecords(s.core, '20260311', 'RECHARGE_REFUND');
    assert.deepEqual(recharge, { ok: true, records: [] });
  });

  test('unpaid, closed and unsettled things are in no bill; an empty day has no rows', (t) => {
    const s = engineFor(t, MARCH_10 + 1000);
    s.pay('PAIDORDER01', 100);
    s.core.faults.set({ refundDelayMs: 3_600_000 });
    const trade = s.core.state.trades.get(s.core.credentials.mchId, 'PAIDORDER01')!;
    s.engine.refunds.create({
      trade,
      outRefundNo: 'PENDING1',
      totalFee: 100,
      refundFee: 50,
      source: 'API',
    });
    s.at(MARCH_10 + DAY + TEN_HOURS);
    const day = billRecords(s.core, '20260310', 'REFUND');
    assert.deepEqual(day, { ok: true, records: [] });
    s.at(MARCH_10 + 4 * DAY);
    assert.deepEqual(billRecords(s.core, '20260312', 'ALL'), { ok: true, records: [] });
  });

  test('future days and days older than 3 months cannot be served', (t) => {
    const s = engineFor(t, MARCH_10 + 1000);
    assert.deepEqual(billRecords(s.core, '20260311', 'ALL'), { ok: false, reason: 'future' });
    assert.deepEqual(billRecords(s.core, '20251201', 'ALL'), { ok: false, reason: 'expired' });
    assert.deepEqual(billRecords(s.core, '20260229', 'ALL'), { ok: false, reason: 'invalid_date' });
  });

  test("no bill for today; yesterday's from 10:00 Beijing (the sandbox's clock)", (t) => {
    const s = engineFor(t, MARCH_10 + 1000);
    s.pay('TODAYORDER1', 100);
    const notReady = { ok: false, reason: 'not_ready' };
    assert.deepEqual(billRecords(s.core, '20260310', 'ALL'), notReady, 'today');
    s.at(MARCH_10 + DAY + TEN_HOURS - 1); // 09:59:59.999 the next day
    assert.deepEqual(billRecords(s.core, '20260310', 'ALL'), notReady, 'before 10:00');
    s.at(MARCH_10 + DAY + TEN_HOURS);
    const out = billRecords(s.core, '20260310', 'ALL');
    assert.ok(out.ok);
    assert.deepEqual(
      out.records.map((r) => r.outTradeNo),
      ['TODAYORDER1'],
    );
  });
});

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { DailyTotals } from '../../src/payments/index.js';
import { type AdminHarness, startAdminHarness } from '../support/admin-flow.js';
import { describeOnStores } from '../support/stores.js';

describeOnStores('admin API: daily stats', (stores) => {
  let h: AdminHarness;

  const stats = async (query: string) => {
    const r = await h.admin('GET', `/admin/v1/stats/daily${query}`);
    assert.equal(r.status, 200, r.text);
    return (r.json as unknown as { days: DailyTotals[] }).days;
  };

  /** An order of `quantity` teas (600 fen each), paid at `paidAt`. */
  const paidAt = async (token: string, quantity: number, at: string) => {
    const placed = await h.placeOrder(token, quantity);
    assert.equal(await h.notify(h.pay(placed.outTradeNo, { paidAt: new Date(at) })), 'ok');
    return placed.id;
  };

  let refundable: string;

  before(async () => {
    h = await startAdminHarness(stores);
    const token = await h.login('alice');
    // Beijing is UTC+8: 15:59:59.999Z is 23:59:59.999 the same day, 16:00Z is the next day.
    refundable = await paidAt(token, 1, '2026-11-20T15:59:59.999Z'); // 11-20:  600
    await paidAt(token, 2, '2026-11-20T16:00:00.000Z'); //               11-21: 1200
    await paidAt(token, 3, '2026-11-21T03:30:00.000Z'); //               11-21: 1800
    await paidAt(token, 1, '2026-11-18T12:00:00.000Z'); //               11-18, outside
    await h.placeOrder(token, 5); // never paid: not counted
    const refund = (id: string, amountFen: number, status: string, at: string | null) => ({
      id,
      order_id: refundable,
      out_refund_no: `RF${id}`,
      refund_id: null,
      amount_fen: amountFen,
      reason: null,
      status,
      source: 'minipay',
      failure_code: null,
      failure_message: null,
      created_at: '2026-11-21T01:00:00.000Z',
      updated_at: '2026-11-21T01:00:00.000Z',
      succeeded_at: at,
      query_attempts: 0,
      next_query_at: null,
    });
    await h.server.store.db
      .insertInto('refunds')
      .values([
        refund('rfd_a', 100, 'SUCCESS', '2026-11-21T17:00:00.000Z'), // 11-22
        refund('rfd_b', 50, 'SUCCESS', '2026-11-22T15:00:00.000Z'), //  11-22
        refund('rfd_c', 70, 'PROCESSING', null), //                      not settled
        refund('rfd_d', 30, 'SUCCESS', '2026-11-23T16:00:00.000Z'), //  11-24, outside
      ])
      .execute();
  });
  after(() => h.server.close());

  test('paid count and fen by the Beijing day they were paid, refunds by the day they succeeded, empty days as zeros', async () => {
    assert.deepEqual(await stats('?from=2026-11-19&to=2026-11-23'), [
      { date: '2026-11-19', paidCount: 0, paidFen: 0, refundedFen: 0 },
      { date: '2026-11-20', paidCount: 1, paidFen: 600, refundedFen: 0 },
      { date: '2026-11-21', paidCount: 2, paidFen: 3000, refundedFen: 0 },
      { date: '2026-11-22', paidCount: 0, paidFen: 0, refundedFen: 150 },
      { date: '2026-11-23', paidCount: 0, paidFen: 0, refundedFen: 0 },
    ]);
    assert.deepEqual(await stats('?from=2026-11-21&to=2026-11-21'), [
      { date: '2026-11-21', paidCount: 2, paidFen: 3000, refundedFen: 0 },
    ]);
  });

  test('a range across months and years is every calendar day once', async () => {
    const days = await stats('?from=2025-12-30&to=2026-03-02');
    assert.equal(days.length, 2 + 31 + 28 + 2);
    assert.deepEqual(
      days.slice(0, 4).map((d) => d.date),
      ['2025-12-30', '2025-12-31', '2026-01-01', '2026-01-02'],
    );
    assert.equal(days.find((d) => d.date === '2026-02-28')!.paidCount, 0);
    assert.equal(days.at(-1)!.date, '2026-03-02');
  });

  test('366 days is the most; without from it is 30 days up to to; without to it ends today', async () => {
    const year = await stats('?from=2025-11-22&to=2026-11-22');
    assert.equal(year.length, 366);
    assert.deepEqual(
      year.filter((d) => d.paidCount > 0).map((d) => [d.date, d.paidCount]),
      [
        ['2026-11-18', 1],
        ['2026-11-20', 1],
        ['2026-11-21', 2],
      ],
    );
    const month = await stats('?to=2026-11-22');
    assert.equal(month.length, 30);
    assert.equal(month[0]!.date, '2026-10-24');
    const today = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);
    assert.equal((await stats('')).at(-1)!.date, today);
  });

  test('bad dates and ranges: a 400 that says what is wrong', async () => {
    const cases: [string, RegExp][] = [
      ['?from=2026-02-30&to=2026-03-01', /from must be a date/],
      ['?from=2026-11-01&to=2026-13-01', /to must be a date/],
      ['?from=20261101&to=2026-11-22', /YYYY-MM-DD/],
      ['?from=2026-11-01T00:00:00Z&to=2026-11-22', /YYYY-MM-DD/],
      ['?from=2026-11-23&to=2026-11-22', /must not be after/],
      ['?from=2025-11-21&to=2026-11-22', /at most 366 days/],
      ['?from=1900-01-01&to=1900-01-02', /year 2000 to 2999/],
      ['?days=7', /days/],
    ];
    for (const [query, message] of cases) {
      const r = await h.admin('GET', `/admin/v1/stats/daily${query}`);
      assert.equal(r.status, 400, query);
      assert.equal(r.json.error?.code, 'VALIDATION_FAILED', query);
      assert.match(r.json.error!.message, message, query);
    }
  });
});

/**
 * The admin order detail and stats after a real refund: the server against the sandbox over
 * loopback (refund, encrypted refund notify), on SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AdminOrder, DailyTotals, Refund, TimelineEntry } from '../../src/payments/index.js';
import { beijingDayOf } from '../../src/payments/lib/date-range.js';
import { startSandboxServer, until } from '../support/sandbox-server.js';
import { describeOnStores } from '../support/stores.js';

describeOnStores('admin API after a refund', (stores) => {
  test('the order shows its refund, and the timeline tells payment, refund and notifies in order; stats count both', async (t) => {
    const s = await startSandboxServer(t, await stores.freshUrl());
    const paid = await s.paidOrder(2); // 1200 fen
    const asked = await s.admin('POST', `/admin/v1/orders/${paid.id}/refunds`, {
      body: { amountFen: 500, reason: 'one cup arrived broken' },
      headers: { 'idempotency-key': `admin-timeline-${process.pid}` },
    });
    assert.equal(asked.status, 201, asked.text);
    const detail = async () => {
      const r = await s.admin('GET', `/admin/v1/orders/${paid.id}`);
      assert.equal(r.status, 200, r.text);
      return r.json as unknown as {
        order: AdminOrder;
        refunds: Refund[];
        timeline: TimelineEntry[];
      };
    };
    await until(async () => (await detail()).refunds[0]?.status === 'SUCCESS', 10_000, 'refund');
    await until(
      async () => (await detail()).timeline.some((e) => e.kind === 'refund_notify.received'),
      10_000,
      'refund notify',
    );
    const { order, refunds, timeline } = await detail();
    assert.equal(order.status, 'PARTIALLY_REFUNDED');
    assert.equal(order.refundedFen, 500);
    assert.equal(refunds.length, 1);
    assert.equal(refunds[0]!.amountFen, 500);
    assert.equal(refunds[0]!.reason, 'one cup arrived broken');

    const kinds = timeline.map((e) => e.kind);
    const once = (kind: string) =>
      assert.equal(
        kinds.filter((k) => k === kind).length,
        1,
        `${kind} once in ${kinds.join(', ')}`,
      );
    for (const kind of [
      'order.created',
      'order.paid',
      'refund.requested',
      'gateway.refund',
      'order.partially_refunded',
      'refund.succeeded',
    ]) {
      once(kind);
    }
    const at = timeline.map((e) => e.at);
    assert.deepEqual(at, [...at].sort(), 'oldest first');
    const index = (kind: string) => kinds.indexOf(kind);
    assert.ok(index('order.paid') < index('refund.requested'));
    assert.ok(index('refund.requested') <= index('gateway.refund'));
    assert.ok(index('gateway.refund') < index('refund.succeeded'));
    const succeeded = timeline[index('refund.succeeded')]!;
    assert.equal(succeeded.data.refundId, refunds[0]!.id);
    assert.equal(succeeded.data.amountFen, 500);
    const requested = timeline[index('refund.requested')]!;
    assert.match(requested.summary, /500 fen.*one cup arrived broken/);

    const paidDay = beijingDayOf(new Date(order.paidAt!));
    const refundDay = beijingDayOf(new Date(refunds[0]!.succeededAt!));
    const [from, to] = [paidDay, refundDay].sort();
    const stats = await s.admin('GET', `/admin/v1/stats/daily?from=${from}&to=${to}`);
    assert.equal(stats.status, 200, stats.text);
    const days = (stats.json as unknown as { days: DailyTotals[] }).days;
    const sum = (f: (d: DailyTotals) => number) => days.reduce((n, d) => n + f(d), 0);
    assert.equal(
      sum((d) => d.paidCount),
      1,
    );
    assert.equal(
      sum((d) => d.paidFen),
      1200,
    );
    assert.equal(
      sum((d) => d.refundedFen),
      500,
    );
    assert.equal(days.find((d) => d.date === paidDay)!.paidFen, 1200);
    assert.equal(days.find((d) => d.date === refundDay)!.refundedFen, 500);
  });
});

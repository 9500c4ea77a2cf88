import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { AdminOrder, Anomaly, TimelineEntry } from '../../src/payments/index.js';
import { type AdminHarness, secretsOf, startAdminHarness } from '../support/admin-flow.js';
import { describeOnStores } from '../support/stores.js';

interface Anomalies {
  anomalies: Anomaly[];
  nextCursor: string | null;
}

describeOnStores('admin API: anomalies', (stores) => {
  let h: AdminHarness;
  let token: string;
  let mismatch: { id: string; outTradeNo: string };
  let late: { id: string; outTradeNo: string };

  const anomalies = async (query = '') => {
    const r = await h.admin('GET', `/admin/v1/anomalies${query}`);
    assert.equal(r.status, 200, r.text);
    return r.json as unknown as Anomalies;
  };
  const timeline = async (id: string) =>
    (await h.admin('GET', `/admin/v1/orders/${id}`)).json as unknown as {
      order: AdminOrder;
      timeline: TimelineEntry[];
    };

  before(async () => {
    h = await startAdminHarness(stores);
    token = await h.login('alice');
    // 1. a notify for an amount we never asked for
    mismatch = await h.placeOrder(token);
    h.pay(mismatch.outTradeNo);
    const forged = h.gateway.notifyBody(mismatch.outTradeNo, { totalFen: 1 });
    assert.equal(await h.notify(forged), 'reject');
    // 2. money for an order we had closed
    late = await h.placeOrder(token);
    await h.closeLater(late.id);
    const trade = h.gateway.trades.get(late.outTradeNo)!;
    Object.assign(trade, { state: 'SUCCESS', transactionId: '4200late', paidAt: new Date() });
    assert.equal(await h.notify(h.gateway.notifyBody(late.outTradeNo)), 'ok');
    // 3. a notify that does not verify (no order)
    await h.call('POST', '/wechatpay/v2/notify', { raw: '{"body":"{}","sig":"forged"}' });
  });
  after(() => h.server.close());

  test('lists every anomaly newest first, with what was seen', async () => {
    const all = await anomalies();
    assert.deepEqual(
      all.anomalies.map((a) => a.kind),
      ['invalid_notify', 'paid_after_close', 'amount_mismatch'],
    );
    assert.equal(all.nextCursor, null);
    const amount = all.anomalies[2]!;
    assert.equal(amount.orderId, mismatch.id);
    assert.equal(amount.outTradeNo, mismatch.outTradeNo);
    assert.equal(amount.status, 'open');
    assert.equal(amount.resolvedAt, null);
    assert.deepEqual(
      [amount.detail.expectedFen, amount.detail.reportedFen],
      [600, 1],
      'detail is the parsed JSON',
    );
    const closed = all.anomalies[1]!;
    assert.equal(closed.detail.transactionId, '4200late');
    const { order } = await timeline(late.id);
    assert.equal(order.status, 'CLOSED');
    assert.equal(order.refundRequired, true, 'money for a closed order must go back');
    assert.equal(all.anomalies[0]!.orderId, null);
  });

  test('pages by cursor without duplicates; status filters', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Anomalies = await anomalies(
        `?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      assert.ok(page.anomalies.length <= 1);
      seen.push(...page.anomalies.map((a) => a.id));
      cursor = page.nextCursor;
    } while (cursor);
    assert.equal(seen.length, 3);
    assert.equal(new Set(seen).size, 3);
    assert.equal((await anomalies('?status=open')).anomalies.length, 3);
    assert.equal((await anomalies('?status=resolved')).anomalies.length, 0);
  });

  test('resolve: open → resolved with the note, once; shown on the order timeline', async () => {
    const target = (await anomalies()).anomalies.find((a) => a.kind === 'paid_after_close')!;
    const r = await h.admin('POST', `/admin/v1/anomalies/${target.id}/resolve`, {
      note: '  refunded 600 fen in the merchant portal  ',
    });
    assert.equal(r.status, 200, r.text);
    const resolved = (r.json as unknown as { anomaly: Anomaly }).anomaly;
    assert.equal(resolved.status, 'resolved');
    assert.equal(resolved.resolution, 'refunded 600 fen in the merchant portal');
    assert.ok(resolved.resolvedAt && resolved.resolvedAt >= resolved.createdAt);

    const again = await h.admin('POST', `/admin/v1/anomalies/${target.id}/resolve`, {
      note: 'something else',
    });
    assert.equal(again.status, 409);
    assert.equal(again.json.error?.code, 'ANOMALY_ALREADY_RESOLVED');
    assert.match(again.json.error!.message, /refunded 600 fen/);

    assert.deepEqual(
      (await anomalies('?status=resolved')).anomalies.map((a) => a.id),
      [target.id],
    );
    assert.equal((await anomalies('?status=open')).anomalies.length, 2);
    const kinds = (await timeline(late.id)).timeline.map((e) => e.kind);
    assert.deepEqual(kinds.slice(-3), ['notify.received', 'anomaly.detected', 'anomaly.resolved']);
  });

  test('bad input: 400 or 404, nothing resolved', async () => {
    const open = (await anomalies('?status=open')).anomalies[0]!;
    const cases: [string, unknown, number, string][] = [
      [open.id, {}, 400, 'VALIDATION_FAILED'],
      [open.id, { note: '' }, 400, 'VALIDATION_FAILED'],
      [open.id, { note: '   ' }, 400, 'VALIDATION_FAILED'],
      [open.id, { note: 42 }, 400, 'VALIDATION_FAILED'],
      [open.id, { note: 'x'.repeat(1001) }, 400, 'VALIDATION_FAILED'],
      [open.id, { note: 'ok', status: 'resolved' }, 400, 'VALIDATION_FAILED'],
      ['anm_nope', { note: 'ok' }, 404, 'NOT_FOUND'],
    ];
    for (const [id, body, status, code] of cases) {
      const r = await h.admin('POST', `/admin/v1/anomalies/${id}/resolve`, body);
      assert.equal(r.status, status, `${JSON.stringify(body)}: ${r.text}`);
      assert.equal(r.json.error?.code, code);
      assert.ok(r.json.error?.message);
    }
    for (const query of ['?status=closed', '?limit=0', '?limit=1000', '?cursor=abc', '?kind=x']) {
      const r = await h.admin('GET', `/admin/v1/anomalies${query}`);
      assert.equal(r.status, 400, query);
      assert.equal(r.json.error?.code, 'VALIDATION_FAILED');
    }
    assert.equal((await anomalies('?status=open')).anomalies.length, 2);
  });

  test('no answer carries a secret', async () => {
    const secrets = await secretsOf(h, [token]);
    for (const text of h.answers) {
      for (const secret of secrets) assert.ok(!text.includes(secret), `an answer leaked ${secret}`);
    }
  });
});

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { AdminEvent, AdminOrder, Refund, TimelineEntry } from '../../src/payments/index.js';
import { type AdminHarness, secretsOf, startAdminHarness } from '../support/admin-flow.js';
import { ambiguous } from '../support/memory-gateway.js';
import { ADMIN_TOKEN } from '../support/server.js';
import { describeOnStores } from '../support/stores.js';

interface Page {
  orders: AdminOrder[];
  nextCursor: string | null;
}
interface Detail {
  order: AdminOrder;
  refunds: Refund[];
  timeline: TimelineEntry[];
}
interface Events {
  events: AdminEvent[];
  nextCursor: string | null;
}

describeOnStores('admin API: orders and events', (stores) => {
  let h: AdminHarness;
  let alice: string;
  let bob: string;
  const tokens: string[] = [];

  const list = async (query: string) => {
    const r = await h.admin('GET', `/admin/v1/orders${query}`);
    assert.equal(r.status, 200, r.text);
    return r.json as unknown as Page;
  };
  const detail = async (id: string) => {
    const r = await h.admin('GET', `/admin/v1/orders/${id}`);
    assert.equal(r.status, 200, r.text);
    return r.json as unknown as Detail;
  };
  /** Every page of `query`, following nextCursor. */
  const allPages = async (query: string, limit: number) => {
    const seen: AdminOrder[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const sep = query ? '&' : '?';
      const page = await list(
        `${query}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      assert.ok(page.orders.length <= limit);
      seen.push(...page.orders);
      cursor = page.nextCursor;
      assert.ok(++pages < 100, 'pagination must end');
    } while (cursor);
    return seen;
  };

  before(async () => {
    h = await startAdminHarness(stores);
    alice = await h.login('alice');
    bob = await h.login('bob');
    tokens.push(alice, bob);
  });
  after(() => h.server.close());

  test('every admin route: 401 without a token, 403 with a wrong one, and nothing changes', async () => {
    const placed = await h.placeOrder(alice);
    const routes: [string, string, unknown?][] = [
      ['GET', '/admin/v1/orders'],
      ['GET', `/admin/v1/orders/${placed.id}`],
      ['POST', `/admin/v1/orders/${placed.id}/sync`],
      ['POST', `/admin/v1/orders/${placed.id}/close`],
      ['GET', '/admin/v1/events'],
      ['GET', '/admin/v1/anomalies'],
      ['POST', '/admin/v1/anomalies/anm_x/resolve', { note: 'x' }],
      ['GET', '/admin/v1/stats/daily'],
    ];
    const calls = h.gateway.calls.length;
    for (const [method, path, body] of routes) {
      const none = await h.call(method, path, { body });
      assert.equal(none.status, 401, `${method} ${path}`);
      assert.equal(none.json.error?.code, 'UNAUTHORIZED');
      const wrong = await h.call(method, path, { body, token: `${ADMIN_TOKEN}x` });
      assert.equal(wrong.status, 403, `${method} ${path}`);
      assert.equal(wrong.json.error?.code, 'FORBIDDEN');
      const user = await h.call(method, path, { body, token: alice });
      assert.equal(user.status, 403, `a shopper's token is not an admin token: ${path}`);
    }
    assert.equal(h.gateway.calls.length, calls, 'no WeChat call was made');
    assert.equal((await detail(placed.id)).order.status, 'PENDING');
  });

  test('timeline after a payment, a duplicate notify and a query: every step, in time order', async () => {
    const placed = await h.placeOrder(alice, 2);
    const body = h.pay(placed.outTradeNo);
    assert.equal(await h.notify(body), 'ok');
    assert.equal(await h.notify(body), 'ok');
    const synced = await h.admin('POST', `/admin/v1/orders/${placed.id}/sync`);
    assert.equal(synced.status, 200, synced.text);
    assert.equal((synced.json.order as AdminOrder).status, 'PAID');

    const { order, refunds, timeline } = await detail(placed.id);
    assert.equal(order.status, 'PAID');
    assert.equal(order.totalFen, 1200);
    assert.equal(order.openid, 'alice');
    assert.ok(order.userId.startsWith('usr_'));
    assert.equal(order.refundRequired, false);
    assert.deepEqual(
      order.items.map((i) => [i.productId, i.quantity, i.amountFen]),
      [['prd_tea', 2, 1200]],
    );
    assert.deepEqual(refunds, []);
    assert.deepEqual(
      timeline.map((e) => e.kind),
      [
        'order.created',
        'prepay.succeeded',
        'order.pending',
        'notify.received',
        'order.paid',
        'notify.repeated',
        'query.made',
      ],
    );
    const at = timeline.map((e) => e.at);
    assert.deepEqual(at, [...at].sort(), 'oldest first');
    for (const e of timeline) {
      assert.ok(e.summary.length > 5 && e.summary.endsWith('.'), e.summary);
      assert.equal(typeof e.data, 'object');
    }
    const paid = timeline.find((e) => e.kind === 'order.paid')!;
    assert.equal(paid.data.source, 'notify');
    assert.equal(paid.data.transactionId, order.transactionId);
    const repeated = timeline.find((e) => e.kind === 'notify.repeated')!;
    assert.equal(repeated.data.receivedCount, 2);
    assert.equal(repeated.data.outcome, 'duplicate');
    const query = timeline.find((e) => e.kind === 'query.made')!;
    assert.equal(query.data.state, 'SUCCESS');
    assert.equal(query.data.outcome, 'ok');
    assert.match(query.summary, /SUCCESS/);
  });

  test('sync: a PENDING order paid at WeChat (notify lost) becomes PAID; WeChat down is a 502 that changes nothing', async () => {
    const lost = await h.placeOrder(bob);
    h.pay(lost.outTradeNo); // the notify never arrives
    const synced = await h.admin('POST', `/admin/v1/orders/${lost.id}/sync`);
    assert.equal((synced.json.order as AdminOrder).status, 'PAID');
    const events = (await h.admin('GET', `/admin/v1/events?orderId=${lost.id}&type=order.paid`))
      .json as unknown as Events;
    assert.equal(events.events.length, 1);
    assert.equal((events.events[0]!.data as { source?: string }).source, 'query');

    const pending = await h.placeOrder(bob);
    h.gateway.fail('queryTrade', ambiguous());
    const down = await h.admin('POST', `/admin/v1/orders/${pending.id}/sync`);
    assert.equal(down.status, 502);
    assert.equal(down.json.error?.code, 'WECHATPAY_UNAVAILABLE');
    const after = await detail(pending.id);
    assert.equal(after.order.status, 'PENDING');
    const failed = after.timeline.find((e) => e.kind === 'query.made')!;
    assert.equal(failed.data.outcome, 'ambiguous');
    assert.match(failed.summary, /SYSTEMERROR/);
  });

  test('sync of a CLOSED order that WeChat says was paid: stays CLOSED, an anomaly, refund required', async () => {
    const placed = await h.placeOrder(bob);
    await h.closeLater(placed.id);
    const trade = h.gateway.trades.get(placed.outTradeNo)!;
    Object.assign(trade, { state: 'SUCCESS', transactionId: '4200closedpaid', paidAt: new Date() });
    const synced = await h.admin('POST', `/admin/v1/orders/${placed.id}/sync`);
    assert.equal(synced.status, 200, synced.text);
    const order = synced.json.order as AdminOrder;
    assert.equal(order.status, 'CLOSED');
    assert.equal(order.refundRequired, true);
    const { timeline } = await detail(placed.id);
    assert.deepEqual(
      timeline.slice(-2).map((e) => e.kind),
      ['query.made', 'anomaly.detected'],
    );
    const anomaly = timeline.at(-1)!;
    assert.equal(anomaly.data.anomalyKind, 'paid_after_close');
    assert.deepEqual(
      [
        (anomaly.data.detail as { source: string }).source,
        (anomaly.data.detail as { transactionId: string }).transactionId,
      ],
      ['query', '4200closedpaid'],
    );
  });

  test("close: any user's PENDING order, idempotent once CLOSED; PAID is 409; a payment that wins the race stays PAID", async () => {
    const placed = await h.placeOrder(bob);
    const closed = await h.closeLater(placed.id);
    assert.equal(closed.status, 200, closed.text);
    assert.equal((closed.json.order as AdminOrder).status, 'CLOSED');
    assert.equal((closed.json.order as AdminOrder).closeReason, 'admin');
    const again = await h.admin('POST', `/admin/v1/orders/${placed.id}/close`);
    assert.equal((again.json.order as AdminOrder).status, 'CLOSED');
    const kinds = (await detail(placed.id)).timeline.map((e) => e.kind);
    // Entries of one millisecond may come in either order: check each is there, closed last of the events.
    for (const kind of ['close.requested', 'query.made', 'order.closing', 'order.closed']) {
      assert.ok(kinds.includes(kind), `${kind} in ${kinds.join(', ')}`);
    }
    assert.ok(kinds.lastIndexOf('order.closed') > kinds.indexOf('order.closing'));
    const reason = (await detail(placed.id)).timeline.findLast((e) => e.kind === 'order.closed')!;
    assert.equal(reason.data.reason, 'admin');

    const young = await h.placeOrder(bob);
    const early = await h.admin('POST', `/admin/v1/orders/${young.id}/close`);
    assert.equal(early.status, 200, early.text);
    assert.equal(
      (early.json.order as AdminOrder).status,
      'CLOSING',
      'within 5 minutes WeChat cannot close it yet: no payment any more, closed later',
    );
    const later = await h.closeLater(young.id);
    assert.equal(
      (later.json.order as AdminOrder).status,
      'CLOSED',
      'a close steps a CLOSING order',
    );

    const paid = await h.placeOrder(bob);
    await h.notify(h.pay(paid.outTradeNo));
    const refused = await h.admin('POST', `/admin/v1/orders/${paid.id}/close`);
    assert.equal(refused.status, 409);
    assert.equal(refused.json.error?.code, 'ORDER_NOT_PENDING');
    assert.match(refused.json.error!.message, /PAID/);

    const racing = await h.placeOrder(alice);
    h.gateway.beforeClose = (outTradeNo) => {
      if (outTradeNo === racing.outTradeNo) h.pay(outTradeNo);
    };
    const won = await h.closeLater(racing.id);
    h.gateway.beforeClose = undefined;
    assert.equal((won.json.order as AdminOrder).status, 'PAID');
  });

  test('filters: status list, openid, outTradeNo, Beijing dates and instants', async () => {
    const carol = await h.login('carol');
    tokens.push(carol);
    // Three orders on three Beijing days: 11-20 23:30, 11-21 00:30, 11-22 12:00 (Beijing).
    const days = [
      '2026-11-20T15:30:00.000Z',
      '2026-11-20T16:30:00.000Z',
      '2026-11-22T04:00:00.000Z',
    ];
    const placed = [];
    for (const at of days) {
      h.clock.frozen = new Date(at);
      placed.push(await h.placeOrder(carol));
    }
    h.clock.frozen = null;
    await h.notify(h.pay(placed[1]!.outTradeNo));
    const ids = (p: Page) => p.orders.map((o) => o.id);

    assert.deepEqual(ids(await list('?openid=carol')), placed.map((p) => p.id).reverse());
    assert.deepEqual(ids(await list('?openid=carol&status=PAID')), [placed[1]!.id]);
    assert.deepEqual(
      ids(await list('?openid=carol&status=PAID,PENDING')),
      placed.map((p) => p.id).reverse(),
    );
    assert.deepEqual(ids(await list('?openid=carol&status=CLOSED,REFUNDED')), []);
    assert.deepEqual(ids(await list(`?outTradeNo=${placed[2]!.outTradeNo}`)), [placed[2]!.id]);
    assert.deepEqual(ids(await list('?openid=carol&from=2026-11-21&to=2026-11-21')), [
      placed[1]!.id,
    ]);
    assert.deepEqual(ids(await list('?openid=carol&to=2026-11-20')), [placed[0]!.id]);
    assert.deepEqual(ids(await list('?openid=carol&from=2026-11-21')), [
      placed[2]!.id,
      placed[1]!.id,
    ]);
    assert.deepEqual(
      ids(
        await list(
          `?openid=carol&from=${encodeURIComponent('2026-11-21T00:30:00+08:00')}&to=2026-11-22T04:00:00Z`,
        ),
      ),
      [placed[1]!.id],
      'an instant: from inclusive, to exclusive',
    );
    const all = await list('?status=PAID');
    assert.ok(all.orders.length >= 3);
    assert.ok(all.orders.every((o) => o.status === 'PAID'));
  });

  test('pagination: newest first, no duplicates or gaps, stable while new orders arrive, ties on time broken by id', async () => {
    const dave = await h.login('dave');
    tokens.push(dave);
    const made: string[] = [];
    h.clock.frozen = new Date('2026-10-01T02:00:00.000Z');
    for (let i = 0; i < 4; i++) made.push((await h.placeOrder(dave)).id); // four at one instant
    h.clock.frozen = null;
    const offset = h.clock.offsetMs;
    h.clock.offsetMs = offset - 3600_000;
    for (let i = 0; i < 5; i++) made.push((await h.placeOrder(dave)).id);
    h.clock.offsetMs = offset;

    const first = await list('?openid=dave&limit=3');
    assert.equal(first.orders.length, 3);
    assert.ok(first.nextCursor);
    // New orders arrive between pages: they are newer than the cursor, so later pages don't shift.
    const late = [(await h.placeOrder(dave)).id, (await h.placeOrder(dave)).id];
    const rest: AdminOrder[] = [];
    let cursor: string | null = first.nextCursor;
    while (cursor) {
      const page = await list(`?openid=dave&limit=3&cursor=${encodeURIComponent(cursor)}`);
      rest.push(...page.orders);
      cursor = page.nextCursor;
    }
    const seen = [...first.orders, ...rest].map((o) => o.id);
    assert.equal(new Set(seen).size, seen.length, 'no duplicates');
    assert.deepEqual(new Set(seen), new Set(made), 'no gaps, and nothing inserted mid-way');
    assert.ok(late.every((id) => !seen.includes(id)));

    const everything = await allPages('?openid=dave', 2);
    assert.deepEqual(new Set(everything.map((o) => o.id)), new Set([...made, ...late]));
    assert.equal(everything.length, made.length + late.length);
    const created = everything.map((o) => o.createdAt);
    assert.deepEqual(created, [...created].sort().reverse(), 'newest first');
    const exact = await list(`?openid=dave&limit=${made.length + late.length}`);
    assert.equal(exact.nextCursor, null, 'a page that holds the rest has no next cursor');

    // Several statuses (one page per status, merged): the same orders, paged the same way,
    // ties at one instant included.
    const paid = made.slice(0, 5);
    for (const id of paid) {
      await h.notify(h.pay(everything.find((o) => o.id === id)!.outTradeNo));
    }
    const paged = await allPages('?openid=dave&status=PENDING,PAID', 2);
    assert.deepEqual(
      paged.map((o) => o.id),
      everything.map((o) => o.id),
      'every order once, in the order of the unfiltered list',
    );
    assert.deepEqual(
      (await allPages('?openid=dave&status=PAID,CLOSED', 3)).map((o) => o.id),
      everything.filter((o) => paid.includes(o.id)).map((o) => o.id),
    );
  });

  test('events: filtered by type and order, paged newest first by a cursor', async () => {
    const erin = await h.login('erin');
    tokens.push(erin);
    const placed = await h.placeOrder(erin);
    await h.notify(h.pay(placed.outTradeNo));
    const mine = (await h.admin('GET', `/admin/v1/events?orderId=${placed.id}`))
      .json as unknown as Events;
    assert.deepEqual(
      mine.events.map((e) => e.type),
      ['order.paid', 'order.pending', 'order.created'],
    );
    for (const e of mine.events) {
      assert.match(e.id, /^evt_/);
      assert.equal(e.orderId, placed.id);
      assert.equal((e.data as { order: { id: string } }).order.id, placed.id);
    }
    const paid = (await h.admin('GET', '/admin/v1/events?type=order.paid&limit=100'))
      .json as unknown as Events;
    assert.ok(paid.events.length >= 2);
    assert.ok(paid.events.every((e) => e.type === 'order.paid'));

    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const r = await h.admin(
        'GET',
        `/admin/v1/events?limit=4${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      assert.equal(r.status, 200, r.text);
      const page = r.json as unknown as Events;
      ids.push(...page.events.map((e) => e.id));
      cursor = page.nextCursor;
    } while (cursor);
    const total = await h.server.store.db.selectFrom('order_events').select('id').execute();
    assert.equal(ids.length, total.length);
    assert.deepEqual(new Set(ids), new Set(total.map((e) => e.id)));
  });

  test('bad input: a clear 400 or 404 that changes nothing', async () => {
    const placed = await h.placeOrder(alice);
    const events = (await h.admin('GET', '/admin/v1/events?limit=1')).json as unknown as Events;
    const cases: [string, number, RegExp][] = [
      ['/admin/v1/orders?limit=0', 400, /limit/],
      ['/admin/v1/orders?limit=1000', 400, /limit/],
      ['/admin/v1/orders?limit=abc', 400, /limit/],
      ['/admin/v1/orders?limit=-1', 400, /limit/],
      ['/admin/v1/orders?cursor=not-a-cursor', 400, /cursor/],
      ['/admin/v1/orders?cursor=%25%25%25', 400, /cursor/],
      [`/admin/v1/orders?cursor=${events.nextCursor}`, 400, /cursor/],
      [
        `/admin/v1/orders?cursor=${Buffer.from('["orders","yesterday","ord_x"]').toString('base64url')}`,
        400,
        /cursor/,
      ],
      ['/admin/v1/orders?status=PAID,NOPE', 400, /status/],
      ['/admin/v1/orders?status=', 400, /status/],
      ['/admin/v1/orders?from=2026-02-30', 400, /from/],
      ['/admin/v1/orders?from=yesterday', 400, /from/],
      ['/admin/v1/orders?to=2026-11-22T25:00:00Z', 400, /to/],
      ['/admin/v1/orders?from=2026-11-22T08:00:00', 400, /zone/],
      ['/admin/v1/orders?from=2026-11-23&to=2026-11-22', 400, /before/],
      ['/admin/v1/orders?openid=a%20b', 400, /openid/],
      ['/admin/v1/orders?outTradeNo=x%27%20OR%201%3D1', 400, /outTradeNo/],
      ['/admin/v1/orders?sort=asc', 400, /sort/],
      ['/admin/v1/orders?status=PAID&status=CLOSED', 400, /status/],
      ['/admin/v1/events?type=order.nope', 400, /type/],
      ['/admin/v1/events?orderId=a%20b', 400, /orderId/],
      ['/admin/v1/events?limit=101', 400, /limit/],
      [
        `/admin/v1/events?cursor=${Buffer.from('["events",0]').toString('base64url')}`,
        400,
        /cursor/,
      ],
      ['/admin/v1/orders/ord_doesnotexist', 404, /order/],
      [`/admin/v1/orders/${'x'.repeat(65)}`, 400, /id/],
    ];
    for (const [path, status, message] of cases) {
      const r = await h.admin('GET', path);
      assert.equal(r.status, status, `${path}: ${r.text}`);
      assert.equal(r.json.error?.code, status === 404 ? 'NOT_FOUND' : 'VALIDATION_FAILED', path);
      assert.match(r.json.error!.message, message, path);
    }
    const calls = h.gateway.calls.length;
    for (const action of ['sync', 'close']) {
      const r = await h.admin('POST', `/admin/v1/orders/ord_doesnotexist/${action}`);
      assert.equal(r.status, 404);
      assert.equal(r.json.error?.code, 'NOT_FOUND');
    }
    assert.equal(h.gateway.calls.length, calls);
    assert.equal((await detail(placed.id)).order.status, 'PENDING');
  });

  test('the admin routes are in the OpenAPI document, behind the bearer scheme', async () => {
    const doc = await h.call('GET', '/docs/openapi.json');
    const paths = doc.json.paths as Record<string, Record<string, { security?: unknown[] }>>;
    for (const [path, method] of [
      ['/admin/v1/orders', 'get'],
      ['/admin/v1/orders/{id}', 'get'],
      ['/admin/v1/orders/{id}/sync', 'post'],
      ['/admin/v1/orders/{id}/close', 'post'],
      ['/admin/v1/events', 'get'],
      ['/admin/v1/anomalies', 'get'],
      ['/admin/v1/anomalies/{id}/resolve', 'post'],
      ['/admin/v1/stats/daily', 'get'],
    ] as const) {
      assert.deepEqual(paths[path]?.[method]?.security, [{ bearer: [] }], `${method} ${path}`);
    }
  });

  test('no admin answer carries a session key, a token, a token hash or a key', async () => {
    await list('?limit=100');
    const secrets = await secretsOf(h, tokens);
    assert.ok(
      secrets.some((s) => s.startsWith('sk-')),
      'the users have session keys to hide',
    );
    assert.ok(h.answers.length > 50);
    for (const text of h.answers) {
      for (const secret of secrets) assert.ok(!text.includes(secret), `an answer leaked ${secret}`);
      assert.ok(!/session_?key|token_hash|payer_ip|prepay_id/i.test(text), text.slice(0, 200));
    }
  });
});

/**
 * Refunds end to end: the real server, the real sandbox playing WeChat over loopback (refund,
 * refundquery, refund notifies with encrypted req_info, portal refunds, faults), on SQLite and
 * PostgreSQL.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Refund } from '../../src/payments/index.js';
import { insertRefund } from '../../src/payments/refunds/refunds-repo.js';
import { buildHostileCases } from '../support/hostile-cases.js';
import {
  REFUND_INTERVAL_MS,
  type SandboxServer,
  startSandboxServer,
  until,
} from '../support/sandbox-server.js';
import { ADMIN_TOKEN } from '../support/server.js';
import { describeOnStores } from '../support/stores.js';

let keys = 0;
const key = () => `refund-test-${process.pid}-${++keys}`;

function refund(s: SandboxServer, orderId: string, amountFen: number, k = key(), reason?: string) {
  return s.admin('POST', `/admin/v1/orders/${orderId}/refunds`, {
    body: { amountFen, ...(reason !== undefined && { reason }) },
    headers: { 'idempotency-key': k },
  });
}

async function refundsOf(s: SandboxServer, orderId: string): Promise<Refund[]> {
  const r = await s.admin('GET', `/admin/v1/refunds?orderId=${orderId}`);
  assert.equal(r.status, 200, r.text);
  return (r.json as unknown as { refunds: Refund[] }).refunds;
}

async function orderRow(s: SandboxServer, id: string) {
  return s.server.store.db
    .selectFrom('orders')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
}

async function eventTypes(s: SandboxServer, orderId: string): Promise<string[]> {
  const rows = await s.server.store.db
    .selectFrom('order_events')
    .select('type')
    .where('order_id', '=', orderId)
    .orderBy('seq')
    .execute();
  return rows.map((r) => r.type);
}

describeOnStores('refunds against the sandbox', (stores) => {
  test('partial then full refund: PARTIALLY_REFUNDED, REFUNDED, events, idempotent key; a late payment notify changes nothing', async (t) => {
    const s = await startSandboxServer(t, await stores.freshUrl());
    const order = await s.paidOrder(2); // 1200 fen
    const k1 = key();
    const first = await refund(s, order.id, 500, k1, '少发一件');
    assert.equal(first.status, 201, first.text);
    const body = first.json as unknown as { refund: Refund; order: { id: string } };
    assert.equal(body.refund.amountFen, 500);
    assert.equal(body.refund.source, 'minipay');
    assert.equal(body.refund.reason, '少发一件');
    assert.match(body.refund.outRefundNo, /^RF\d{14}[0-9A-Z]{16}$/);
    assert.ok(['PROCESSING', 'SUCCESS'].includes(body.refund.status));
    assert.equal(body.order.id, order.id);

    const again = await refund(s, order.id, 500, k1, '少发一件');
    assert.equal(again.status, 201);
    assert.equal((again.json as unknown as { refund: Refund }).refund.id, body.refund.id);
    const reused = await refund(s, order.id, 400, k1, '少发一件');
    assert.equal(reused.status, 422);
    assert.equal(reused.json.error?.code, 'IDEMPOTENCY_KEY_REUSED');

    await until(async () => (await orderRow(s, order.id)).status === 'PARTIALLY_REFUNDED');
    assert.equal((await orderRow(s, order.id)).refunded_fen, 500);
    const [settled] = await refundsOf(s, order.id);
    assert.equal(settled?.status, 'SUCCESS');
    assert.ok(settled?.succeededAt);
    assert.ok(settled?.refundId);

    const tooMuch = await refund(s, order.id, 701);
    assert.equal(tooMuch.status, 422);
    assert.equal(tooMuch.json.error?.code, 'REFUND_EXCEEDS_PAID');
    assert.match(tooMuch.json.error!.message, /at most 700 fen/);

    s.sandbox.advanceClock(REFUND_INTERVAL_MS); // WeChat: refunds of one order a minute apart
    const rest = await refund(s, order.id, 700);
    assert.equal(rest.status, 201, rest.text);
    await until(async () => (await orderRow(s, order.id)).status === 'REFUNDED');
    assert.equal((await orderRow(s, order.id)).refunded_fen, 1200);
    const none = await refund(s, order.id, 1);
    assert.equal(none.status, 409);
    assert.equal(none.json.error?.code, 'ORDER_NOT_REFUNDABLE');

    assert.equal(s.sandbox.trade(order.outTradeNo)?.refunds.length, 2);
    const types = await eventTypes(s, order.id);
    assert.deepEqual(
      types.filter((x) => x.startsWith('refund.') || x.includes('refunded')),
      [
        'refund.created',
        'order.partially_refunded',
        'refund.succeeded',
        'refund.created',
        'order.refunded',
        'refund.succeeded',
      ],
    );

    // The genuine payment notify delivered again, late: the order stays REFUNDED.
    const paymentNotify = s.sandbox
      .notifications()
      .find((n) => n.kind === 'payment' && n.outTradeNo === order.outTradeNo)!;
    const late = await fetch(`${s.server.url}/wechatpay/v2/notify`, {
      method: 'POST',
      headers: { 'content-type': 'text/xml' },
      body: paymentNotify.body,
    });
    assert.match(await late.text(), /SUCCESS/);
    assert.equal((await orderRow(s, order.id)).status, 'REFUNDED');
    assert.deepEqual(await eventTypes(s, order.id), types);

    // A refund notify delivered again changes nothing either.
    const refundNotify = s.sandbox
      .notifications()
      .find((n) => n.kind === 'refund' && n.outTradeNo === order.outTradeNo)!;
    const dup = await fetch(`${s.server.url}/wechatpay/v2/refund-notify`, {
      method: 'POST',
      headers: { 'content-type': 'text/xml' },
      body: refundNotify.body,
    });
    assert.match(await dup.text(), /SUCCESS/);
    assert.equal((await orderRow(s, order.id)).refunded_fen, 1200);
    assert.deepEqual(await eventTypes(s, order.id), types);
  });

  test('20 concurrent 60 % refunds: exactly one succeeds, the sum never exceeds the paid amount', async (t) => {
    const s = await startSandboxServer(t, await stores.freshUrl());
    const order = await s.paidOrder(5); // 3000 fen
    const answers = await Promise.all(Array.from({ length: 20 }, () => refund(s, order.id, 1800)));
    const ok = answers.filter((a) => a.status === 201);
    assert.equal(ok.length, 1, answers.map((a) => `${a.status} ${a.json.error?.code}`).join(', '));
    for (const a of answers.filter((x) => x.status !== 201)) {
      assert.equal(a.status, 422, a.text);
      assert.equal(a.json.error?.code, 'REFUND_EXCEEDS_PAID');
    }
    const rows = await refundsOf(s, order.id);
    assert.equal(rows.length, 1);
    assert.equal(s.sandbox.trade(order.outTradeNo)?.refunds.length, 1);
    await until(async () => (await orderRow(s, order.id)).status === 'PARTIALLY_REFUNDED');
    assert.equal((await orderRow(s, order.id)).refunded_fen, 1800);
  });

  test('refund notify dropped: the follow-up job settles it with refundquery', async (t) => {
    const s = await startSandboxServer(t, await stores.freshUrl());
    const order = await s.paidOrder(1); // 600 fen
    await s.sandbox.setFaults({ dropNotifyRate: 1 });
    const r = await refund(s, order.id, 600);
    assert.equal(r.status, 201, r.text);
    const made = (r.json as unknown as { refund: Refund }).refund;
    await until(() => s.sandbox.refund(made.outRefundNo)?.status === 'SUCCESS');
    assert.equal((await s.server.payments.refunds.followUp()).examined, 0, 'not due yet');
    assert.equal((await refundsOf(s, order.id))[0]?.status, 'PROCESSING');
    s.clock.advance(2 * 60_000);
    const run = await s.server.payments.refunds.followUp();
    assert.deepEqual([run.examined, run.changed, run.errors], [1, 1, 0]);
    assert.equal((await refundsOf(s, order.id))[0]?.status, 'SUCCESS');
    const row = await orderRow(s, order.id);
    assert.deepEqual([row.status, row.refunded_fen], ['REFUNDED', 600]);
  });

  test('WeChat acts but the answer is lost: retried with the same out_refund_no, one refund at WeChat', async (t) => {
    const s = await startSandboxServer(t, await stores.freshUrl());
    const order = await s.paidOrder(2);
    await s.sandbox.setFaults({ timeoutRate: { '/secapi/pay/refund': 1 }, timeoutHoldMs: 200 });
    const r = await refund(s, order.id, 300);
    assert.equal(r.status, 201, r.text);
    const made = (r.json as unknown as { refund: Refund }).refund;
    // PROCESSING, or already SUCCESS: the first attempt reached WeChat, whose notify may be in.
    assert.ok(['PROCESSING', 'SUCCESS'].includes(made.status), made.status);
    const calls = await s.server.store.db
      .selectFrom('gateway_calls')
      .select('outcome')
      .where('order_id', '=', order.id)
      .where('operation', '=', 'refund')
      .execute();
    assert.ok(calls.length >= 2, 'asked again after the lost answer');
    assert.ok(calls.every((c) => c.outcome === 'ambiguous'));
    const trade = s.sandbox.trade(order.outTradeNo)!;
    assert.equal(trade.refunds.length, 1);
    assert.equal(trade.refunds[0]!.outRefundNo, made.outRefundNo);
    await s.sandbox.setFaults({ timeoutRate: { '/secapi/pay/refund': 0 } });
    await until(async () => (await refundsOf(s, order.id))[0]?.status === 'SUCCESS');
    assert.equal((await orderRow(s, order.id)).refunded_fen, 300);
  });

  test('WeChat never got it (SYSTEMERROR): PROCESSING; the follow-up sends it again with the same number', async (t) => {
    const s = await startSandboxServer(t, await stores.freshUrl());
    const order = await s.paidOrder(2);
    await s.sandbox.setFaults({ systemErrorRate: { '/secapi/pay/refund': 1 } });
    const r = await refund(s, order.id, 400);
    assert.equal(r.status, 201, r.text);
    const made = (r.json as unknown as { refund: Refund }).refund;
    assert.equal(made.status, 'PROCESSING');
    assert.equal(s.sandbox.refund(made.outRefundNo), undefined);
    await s.sandbox.setFaults({ systemErrorRate: { '/secapi/pay/refund': 0 } });
    s.clock.advance(2 * 60_000);
    await s.server.payments.refunds.followUp();
    assert.ok(s.sandbox.refund(made.outRefundNo), 'sent again with the same out_refund_no');
    await until(async () => (await refundsOf(s, order.id))[0]?.status === 'SUCCESS');
    assert.equal((await orderRow(s, order.id)).status, 'PARTIALLY_REFUNDED');
  });

  test('WeChat refuses (REFUNDCLOSE outcome): refund.failed, the amount is free again', async (t) => {
    const s = await startSandboxServer(t, await stores.freshUrl());
    const order = await s.paidOrder(1);
    await s.sandbox.setFaults({ refundOutcome: 'REFUNDCLOSE' });
    const r = await refund(s, order.id, 600);
    assert.equal(r.status, 201, r.text);
    await until(async () => (await refundsOf(s, order.id))[0]?.status === 'REFUNDCLOSE');
    assert.equal((await orderRow(s, order.id)).status, 'PAID');
    assert.ok((await eventTypes(s, order.id)).includes('refund.failed'));
    await s.sandbox.setFaults({ refundOutcome: 'SUCCESS' });
    s.sandbox.advanceClock(REFUND_INTERVAL_MS); // WeChat: refunds of one order a minute apart
    const again = await refund(s, order.id, 600);
    assert.equal(again.status, 201, again.text);
    await until(async () => (await orderRow(s, order.id)).status === 'REFUNDED');
  });

  test('a refund made in the merchant portal arrives by notify and is recorded', async (t) => {
    const s = await startSandboxServer(t, await stores.freshUrl());
    const order = await s.paidOrder(2); // 1200
    const res = await fetch(`${s.sandbox.url}/sandbox/v1/trades/${order.outTradeNo}/refunds`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        refundFen: 300,
        notifyUrl: `${s.server.url}/wechatpay/v2/refund-notify`,
      }),
    });
    assert.equal(res.status, 201, await res.clone().text());
    await until(async () => (await refundsOf(s, order.id))[0]?.status === 'SUCCESS');
    const [portal] = await refundsOf(s, order.id);
    assert.equal(portal?.source, 'merchant_portal');
    assert.equal(portal?.amountFen, 300);
    const row = await orderRow(s, order.id);
    assert.deepEqual([row.status, row.refunded_fen], ['PARTIALLY_REFUNDED', 300]);
    const over = await refund(s, order.id, 901);
    assert.equal(over.status, 422);
    s.sandbox.advanceClock(REFUND_INTERVAL_MS);
    const rest = await refund(s, order.id, 900);
    assert.equal(rest.status, 201, rest.text);
    await until(async () => (await orderRow(s, order.id)).status === 'REFUNDED');
  });

  test('a portal refund notify that overtakes the payment notify: the order is queried, PAID, then refunded', async (t) => {
    const s = await startSandboxServer(t, await stores.freshUrl());
    const order = await s.silentlyPaidOrder(2);
    assert.equal((await orderRow(s, order.id)).status, 'PENDING');
    const res = await fetch(`${s.sandbox.url}/sandbox/v1/trades/${order.outTradeNo}/refunds`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        refundFen: 1200,
        notifyUrl: `${s.server.url}/wechatpay/v2/refund-notify`,
      }),
    });
    assert.equal(res.status, 201);
    await until(async () => (await orderRow(s, order.id)).status === 'REFUNDED');
    const types = await eventTypes(s, order.id);
    assert.ok(types.includes('order.paid'), types.join());
    assert.ok(types.indexOf('order.paid') < types.indexOf('order.refunded'), types.join());
    assert.equal((await refundsOf(s, order.id))[0]?.source, 'merchant_portal');
  });

  test('a crash after recording a refund, before asking WeChat: the follow-up sends it', async (t) => {
    const s = await startSandboxServer(t, await stores.freshUrl());
    const order = await s.paidOrder(1);
    // What a request leaves behind when the process dies right after the reservation commits.
    const row = await insertRefund(
      s.server.store.db,
      order.id,
      {
        outRefundNo: `RFCRASH${process.pid}${Date.now()}`,
        amountFen: 600,
        reason: null,
        source: 'minipay',
        status: 'PENDING',
        nextQueryAt: new Date(s.clock.now().getTime() + 2 * 60_000),
      },
      s.clock.now(),
      () => undefined,
    );
    assert.equal((await refund(s, order.id, 1)).json.error?.code, 'ORDER_FULLY_REFUNDED');
    s.clock.advance(3 * 60_000);
    await s.server.payments.refunds.followUp();
    assert.ok(s.sandbox.refund(row.out_refund_no), 'WeChat has it, under the recorded number');
    await until(async () => (await orderRow(s, order.id)).status === 'REFUNDED');
  });

  test('every hostile refund notify of the corpus is refused and changes nothing', async (t) => {
    const s = await startSandboxServer(t, await stores.freshUrl());
    const order = await s.paidOrder(2);
    const c = s.sandbox.credentials;
    const cases = buildHostileCases({
      appId: c.appId,
      mchId: c.mchId,
      mchKey: c.mchKey,
      outTradeNo: order.outTradeNo,
      totalFee: order.totalFen,
      openid: 'o-hostile',
      transactionId: order.transactionId!,
      outRefundNo: `RFHOSTILE${process.pid}`,
      refundId: '50000000002026112200000000009',
    }).filter((x) => x.target === 'refund-notify');
    assert.ok(cases.length >= 8);
    for (const hostile of cases) {
      const res = await fetch(`${s.server.url}/wechatpay/v2/refund-notify`, {
        method: 'POST',
        headers: { 'content-type': 'text/xml' },
        body: hostile.body,
      });
      const text = await res.text();
      assert.ok(res.status >= 400 || /<return_code><!\[CDATA\[FAIL|FAIL/.test(text), hostile.name);
      assert.doesNotMatch(text, /SUCCESS/, hostile.name);
    }
    assert.equal((await refundsOf(s, order.id)).length, 0);
    const row = await orderRow(s, order.id);
    assert.deepEqual([row.status, row.refunded_fen], ['PAID', 0]);
  });

  test('bad requests are refused clearly and change nothing; admin token required; no secrets', async (t) => {
    const s = await startSandboxServer(t, await stores.freshUrl());
    const order = await s.paidOrder(1);
    const path = `/admin/v1/orders/${order.id}/refunds`;
    const cases: [string, unknown, Record<string, string>, number, string][] = [
      ['zero', { amountFen: 0 }, { 'idempotency-key': key() }, 400, 'VALIDATION_FAILED'],
      ['negative', { amountFen: -5 }, { 'idempotency-key': key() }, 400, 'VALIDATION_FAILED'],
      ['fraction', { amountFen: 1.5 }, { 'idempotency-key': key() }, 400, 'VALIDATION_FAILED'],
      ['string', { amountFen: '100' }, { 'idempotency-key': key() }, 400, 'VALIDATION_FAILED'],
      [
        'extra',
        { amountFen: 1, orderId: 'x' },
        { 'idempotency-key': key() },
        400,
        'VALIDATION_FAILED',
      ],
      [
        'long reason',
        { amountFen: 1, reason: 'x'.repeat(81) },
        { 'idempotency-key': key() },
        400,
        'VALIDATION_FAILED',
      ],
      ['no key', { amountFen: 1 }, {}, 400, 'IDEMPOTENCY_KEY_REQUIRED'],
      ['over', { amountFen: 601 }, { 'idempotency-key': key() }, 422, 'REFUND_EXCEEDS_PAID'],
    ];
    for (const [what, body, headers, status, code] of cases) {
      const r = await s.admin('POST', path, { body, headers });
      assert.equal(r.status, status, `${what}: ${r.text}`);
      assert.equal(r.json.error?.code, code, what);
    }
    const unknown = await s.admin('POST', '/admin/v1/orders/ord_nope/refunds', {
      body: { amountFen: 1 },
      headers: { 'idempotency-key': key() },
    });
    assert.equal(unknown.status, 404);
    const badList = await s.admin('GET', '/admin/v1/refunds?status=DONE');
    assert.equal(badList.status, 400);
    assert.equal((await s.admin('GET', '/admin/v1/refunds?limit=0')).status, 400);
    assert.equal((await s.admin('GET', '/admin/v1/refunds?cursor=zzz')).status, 400);
    assert.equal((await refundsOf(s, order.id)).length, 0);
    assert.equal(s.sandbox.trade(order.outTradeNo)?.refunds.length, 0);

    for (const [method, p] of [
      ['POST', path],
      ['GET', '/admin/v1/refunds'],
    ] as const) {
      const body = method === 'POST' ? { amountFen: 1 } : undefined;
      const none = await s.api(method, p, { body });
      assert.equal(none.status, 401, p);
      assert.equal(none.json.error?.code, 'UNAUTHORIZED');
      const wrong = await s.api(method, p, {
        body,
        token: `${ADMIN_TOKEN}x`,
        headers: { 'idempotency-key': key() },
      });
      assert.equal(wrong.status, 403, p);
      assert.equal(wrong.json.error?.code, 'FORBIDDEN');
    }
    const ok = await refund(s, order.id, 100);
    const list = await s.admin('GET', '/admin/v1/refunds');
    for (const text of [ok.text, list.text]) {
      assert.ok(!text.includes(s.sandbox.credentials.mchKey));
      assert.ok(!text.includes(ADMIN_TOKEN));
      assert.ok(!text.includes('sk-'), 'no session key');
    }

    const forged = await fetch(`${s.server.url}/wechatpay/v2/refund-notify`, {
      method: 'POST',
      headers: { 'content-type': 'text/xml' },
      body: '<xml><return_code>SUCCESS</return_code><req_info>AAAA</req_info></xml>',
    });
    assert.match(await forged.text(), /FAIL/);
  });

  test('refunds list: newest first, cursor pages without gaps or repeats, status filter', async (t) => {
    const s = await startSandboxServer(t, await stores.freshUrl());
    const order = await s.paidOrder(5);
    for (let i = 0; i < 5; i++) {
      s.sandbox.advanceClock(REFUND_INTERVAL_MS);
      assert.equal((await refund(s, order.id, 100)).status, 201);
    }
    await until(async () => (await refundsOf(s, order.id)).every((r) => r.status === 'SUCCESS'));
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await s.admin(
        'GET',
        `/admin/v1/refunds?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      const body = page.json as unknown as { refunds: Refund[]; nextCursor: string | null };
      seen.push(...body.refunds.map((r) => r.id));
      cursor = body.nextCursor;
    } while (cursor);
    assert.equal(seen.length, 5);
    assert.equal(new Set(seen).size, 5);
    const success = await s.admin('GET', '/admin/v1/refunds?status=SUCCESS,FAILED');
    assert.equal((success.json as unknown as { refunds: unknown[] }).refunds.length, 5);
    const failed = await s.admin('GET', '/admin/v1/refunds?status=FAILED');
    assert.equal((failed.json as unknown as { refunds: unknown[] }).refunds.length, 0);
  });
});

/**
 * Refunds WeChat refuses for now (NOTENOUGH, FREQUENCY_LIMITED): they wait PENDING with why,
 * their amount reserved, and are sent again with the SAME out_refund_no (WeChat's rule) by the
 * follow-up job, or now by an admin, until an admin gives them up. Real server, real sandbox.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Refund } from '../../src/payments/index.js';
import {
  REFUND_INTERVAL_MS,
  type SandboxServer,
  startSandboxServer,
  until,
} from '../support/sandbox-server.js';
import { describeOnStores } from '../support/stores.js';

let keys = 0;

async function refund(s: SandboxServer, orderId: string, amountFen: number) {
  const r = await s.admin('POST', `/admin/v1/orders/${orderId}/refunds`, {
    body: { amountFen },
    headers: { 'idempotency-key': `refund-retry-${process.pid}-${++keys}` },
  });
  return {
    status: r.status,
    text: r.text,
    json: r.json as { refund?: Refund } & typeof r.json,
  };
}

async function refundRow(s: SandboxServer, id: string): Promise<Refund> {
  const r = await s.admin('GET', '/admin/v1/refunds?limit=100');
  return (r.json as unknown as { refunds: Refund[] }).refunds.find((x) => x.id === id)!;
}

/** The follow-up job, once the back-off of a waiting refund has passed (our clock and WeChat's). */
async function followUpLater(s: SandboxServer, ms: number) {
  s.clock.advance(ms);
  s.sandbox.advanceClock(ms);
  return s.server.payments.refunds.followUp();
}

describeOnStores('refunds WeChat refuses for now', (stores) => {
  test('NOTENOUGH twice: PENDING with why, amount reserved, sent again with the same out_refund_no until accepted', async (t) => {
    const s = await startSandboxServer(t, await stores.freshUrl());
    const order = await s.paidOrder(2); // 1200 fen
    await s.sandbox.setFaults({ errCodes: { '/secapi/pay/refund': { NOTENOUGH: 2 } } });
    const r = await refund(s, order.id, 1000);
    assert.equal(r.status, 201, r.text);
    const waiting = r.json.refund!;
    assert.equal(waiting.status, 'PENDING');
    assert.equal(waiting.failure, null);
    assert.equal(waiting.retry?.code, 'NOTENOUGH');
    assert.match(waiting.retry!.message, /基本账户余额不足/);
    assert.equal(waiting.retry?.attempts, 1);
    assert.ok(waiting.retry?.nextAttemptAt);
    assert.equal(s.sandbox.refund(waiting.outRefundNo), undefined, 'WeChat did nothing');

    const more = await refund(s, order.id, 300);
    assert.equal(more.status, 422, 'its amount stays reserved');
    assert.equal(more.json.error?.code, 'REFUND_EXCEEDS_PAID');

    await followUpLater(s, 60_000);
    const second = await refundRow(s, waiting.id);
    assert.equal(second.status, 'PENDING');
    assert.equal(second.retry?.attempts, 2);
    assert.ok(second.retry!.nextAttemptAt! > waiting.retry!.nextAttemptAt!);

    const run = await followUpLater(s, 120_000);
    assert.deepEqual([run.examined, run.changed, run.errors], [1, 1, 0]);
    await until(async () => (await refundRow(s, waiting.id)).status === 'SUCCESS');
    const trade = s.sandbox.trade(order.outTradeNo)!;
    assert.deepEqual(
      trade.refunds.map((x) => x.outRefundNo),
      [waiting.outRefundNo],
      'one refund at WeChat, under the first number',
    );
    const calls = await s.server.store.db
      .selectFrom('gateway_calls')
      .select('outcome')
      .where('order_id', '=', order.id)
      .where('operation', '=', 'refund')
      .execute();
    assert.deepEqual(
      calls.map((c) => c.outcome),
      ['later', 'later', 'ok'],
    );
  });

  test('FREQUENCY_LIMITED (two partial refunds within the interval): the second waits, then goes', async (t) => {
    // A day of WeChat time between refunds (86 s here): no test is slow enough to pass it.
    const interval = 24 * 3600_000;
    const s = await startSandboxServer(t, await stores.freshUrl(), {
      sandbox: { refundIntervalMs: interval },
    });
    const order = await s.paidOrder(2);
    assert.equal((await refund(s, order.id, 100)).status, 201);
    const second = (await refund(s, order.id, 200)).json.refund!;
    assert.equal(second.status, 'PENDING');
    assert.equal(second.retry?.code, 'FREQUENCY_LIMITED');
    await followUpLater(s, interval / 1000);
    await until(async () => (await refundRow(s, second.id)).status === 'SUCCESS');
    assert.equal(s.sandbox.refund(second.outRefundNo)?.refundFen, 200);
  });

  test('retry now: an admin sends a waiting refund at once; only PENDING refunds can be', async (t) => {
    const s = await startSandboxServer(t, await stores.freshUrl());
    const order = await s.paidOrder(1);
    await s.sandbox.setFaults({ errCodes: { '/secapi/pay/refund': { NOTENOUGH: 2 } } });
    const waiting = (await refund(s, order.id, 600)).json.refund!;
    const again = await s.admin('POST', `/admin/v1/refunds/${waiting.id}/retry`);
    assert.equal(again.status, 200, again.text);
    const still = (again.json as unknown as { refund: Refund }).refund;
    assert.equal(still.status, 'PENDING', 'refused once more');
    assert.equal(still.retry?.attempts, 2);
    const now = await s.admin('POST', `/admin/v1/refunds/${waiting.id}/retry`);
    const sent = (now.json as unknown as { refund: Refund }).refund;
    assert.ok(['PROCESSING', 'SUCCESS'].includes(sent.status), sent.status);
    assert.equal(sent.retry, null);
    const twice = await s.admin('POST', `/admin/v1/refunds/${waiting.id}/retry`);
    assert.equal(twice.status, 409);
    assert.equal(twice.json.error?.code, 'REFUND_NOT_WAITING');
    for (const id of ['rfd_nosuchrefund', 'bad%20id']) {
      const missing = await s.admin('POST', `/admin/v1/refunds/${id}/retry`);
      assert.equal(missing.status, 404, id);
    }
    const long = await s.admin('POST', `/admin/v1/refunds/${'x'.repeat(65)}/retry`);
    assert.equal(long.status, 400);
    const anonymous = await s.api('POST', `/admin/v1/refunds/${waiting.id}/give-up`);
    assert.equal(anonymous.status, 401);
  });

  test('give up: FAILED with the amount free again, once WeChat confirms it has no such refund', async (t) => {
    const s = await startSandboxServer(t, await stores.freshUrl());
    const order = await s.paidOrder(1); // 600 fen
    await s.sandbox.setFaults({ errCodes: { '/secapi/pay/refund': { NOTENOUGH: 1 } } });
    const waiting = (await refund(s, order.id, 600)).json.refund!;
    await s.sandbox.setFaults({ systemErrorRate: { '/pay/refundquery': 1 } });
    const unsure = await s.admin('POST', `/admin/v1/refunds/${waiting.id}/give-up`);
    assert.equal(unsure.status, 502, 'not without WeChat saying it has none');
    assert.equal((await refundRow(s, waiting.id)).status, 'PENDING');
    await s.sandbox.setFaults({ systemErrorRate: { '/pay/refundquery': 0 } });
    const given = await s.admin('POST', `/admin/v1/refunds/${waiting.id}/give-up`);
    assert.equal(given.status, 200, given.text);
    const failed = (given.json as unknown as { refund: Refund }).refund;
    assert.equal(failed.status, 'FAILED');
    assert.equal(failed.failure?.code, 'GIVEN_UP');
    assert.match(failed.failure!.message, /NOTENOUGH/);
    const events = await s.server.store.db
      .selectFrom('order_events')
      .select('type')
      .where('order_id', '=', order.id)
      .execute();
    assert.ok(events.some((e) => e.type === 'refund.failed'));
    s.sandbox.advanceClock(REFUND_INTERVAL_MS);
    const anew = await refund(s, order.id, 600);
    assert.equal(anew.status, 201, 'the amount is free again');
    const twice = await s.admin('POST', `/admin/v1/refunds/${waiting.id}/give-up`);
    assert.equal(twice.status, 409);
  });

  test('give up is refused when WeChat has the refund: its word is applied instead', async (t) => {
    const s = await startSandboxServer(t, await stores.freshUrl());
    const order = await s.paidOrder(1);
    await s.sandbox.setFaults({ errCodes: { '/secapi/pay/refund': { NOTENOUGH: 1 } } });
    const waiting = (await refund(s, order.id, 600)).json.refund!;
    // The same out_refund_no reaches WeChat another way (a request thought lost).
    const res = await fetch(`${s.sandbox.url}/sandbox/v1/trades/${order.outTradeNo}/refunds`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refundFen: 600, outRefundNo: waiting.outRefundNo }),
    });
    assert.equal(res.status, 201);
    const refused = await s.admin('POST', `/admin/v1/refunds/${waiting.id}/give-up`);
    assert.equal(refused.status, 409);
    assert.equal(refused.json.error?.code, 'REFUND_AT_WECHAT');
    assert.notEqual((await refundRow(s, waiting.id)).status, 'FAILED');
  });

  test('a request on its way while the refund is given up: WeChat accepts it, the refund is taken back up', async (t) => {
    const s = await startSandboxServer(t, await stores.freshUrl());
    const order = await s.paidOrder(1);
    await s.sandbox.setFaults({ errCodes: { '/secapi/pay/refund': { NOTENOUGH: 1 } } });
    const waiting = (await refund(s, order.id, 600)).json.refund!;
    const row = await s.server.store.db
      .selectFrom('refunds')
      .selectAll()
      .where('id', '=', waiting.id)
      .executeTakeFirstOrThrow();
    assert.equal((await s.admin('POST', `/admin/v1/refunds/${waiting.id}/give-up`)).status, 200);
    await s.server.payments.refunds.submit(row); // the follow-up's request, sent before
    const back = await refundRow(s, waiting.id);
    assert.ok(['PROCESSING', 'SUCCESS'].includes(back.status), back.status);
    assert.equal(back.failure, null);
    await until(async () => (await refundRow(s, waiting.id)).status === 'SUCCESS');
    const o = await s.server.store.db
      .selectFrom('orders')
      .select(['status', 'refunded_fen'])
      .where('id', '=', order.id)
      .executeTakeFirstOrThrow();
    assert.deepEqual([o.status, o.refunded_fen], ['REFUNDED', 600]);
  });

  test('MINIPAY_REFUND_ACCOUNT: refunds are paid from the available balance when configured', async (t) => {
    const s = await startSandboxServer(t, await stores.freshUrl(), {
      config: { refundAccount: 'RECHARGE_FUNDS' },
    });
    const order = await s.paidOrder(1);
    const made = (await refund(s, order.id, 100)).json.refund!;
    assert.equal(s.sandbox.refund(made.outRefundNo)?.refundAccount, 'REFUND_SOURCE_RECHARGE_FUNDS');
  });

  test('the reason is refund_desc: at most 80 bytes of UTF-8 (26 Chinese characters)', async (t) => {
    const s = await startSandboxServer(t, await stores.freshUrl());
    const order = await s.paidOrder(1);
    const post = (reason: string) =>
      s.admin('POST', `/admin/v1/orders/${order.id}/refunds`, {
        body: { amountFen: 100, reason },
        headers: { 'idempotency-key': `refund-retry-${process.pid}-${++keys}` },
      });
    const long = await post('退'.repeat(27));
    assert.equal(long.status, 400);
    assert.match(long.json.error!.message, /80 bytes/);
    const fits = await post('退'.repeat(26));
    assert.equal(fits.status, 201, fits.text);
  });
});

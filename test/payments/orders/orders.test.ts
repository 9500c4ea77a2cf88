import assert from 'node:assert/strict';
import { beforeEach, test } from 'node:test';
import {
  DomainError,
  GatewayError,
  type Payments,
  type SessionUser,
} from '../../../src/payments/index.js';
import type { Store } from '../../../src/store/index.js';
import { ambiguous, MemoryGateway } from '../../support/memory-gateway.js';
import { buildPayments, DEMO_PRODUCTS, TestClock } from '../../support/payments.js';
import { describeOnStores } from '../../support/stores.js';

const IP = '127.0.0.1';
/** WeChat's "no closeorder within 5 minutes of the order". */
const CLOSE_MIN_AGE_MS = 5 * 60_000;

async function rejectsWith(promise: Promise<unknown>, status: number, code: string) {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof DomainError, `expected a DomainError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.equal(err.status, status);
    return true;
  });
}

describeOnStores('payments domain', (stores) => {
  let store: Store;
  let gateway: MemoryGateway;
  let clock: TestClock;
  let payments: Payments;
  let alice: SessionUser;
  let bob: SessionUser;

  const user = async (openid: string) => {
    const { token } = await payments.login.login(`code:${openid}`);
    return (await payments.login.authenticate(token))!;
  };
  const buy = (who: SessionUser, key: string, items = [{ productId: 'prd_tea', quantity: 2 }]) =>
    payments.checkout.checkout(who, { items }, key, IP);
  const events = async (orderId: string, type?: string) => {
    let q = store.db.selectFrom('order_events').selectAll().where('order_id', '=', orderId);
    if (type) q = q.where('type', '=', type);
    return q.execute();
  };
  const anomalies = (kind: string) =>
    store.db.selectFrom('anomalies').selectAll().where('kind', '=', kind).execute();
  const status = async (id: string) =>
    (
      await store.db
        .selectFrom('orders')
        .select('status')
        .where('id', '=', id)
        .executeTakeFirstOrThrow()
    ).status;

  beforeEach(async () => {
    store = await stores.fresh();
    gateway = new MemoryGateway();
    clock = new TestClock();
    payments = buildPayments(store, gateway, { clock });
    await payments.catalogue.seed(DEMO_PRODUCTS);
    alice = await user('openid-alice');
    bob = await user('openid-bob');
  });

  test('login: same openid is the same user; a bad code is 401; tokens are stored hashed', async () => {
    const again = await payments.login.login('code:openid-alice');
    assert.equal(again.user.id, alice.id);
    await rejectsWith(payments.login.login('garbage'), 401, 'UNAUTHORIZED');
    assert.equal(await payments.login.authenticate('not-a-token'), null);
    const sessions = await store.db.selectFrom('sessions').select('token_hash').execute();
    assert.ok(
      sessions.every((s) => /^[0-9a-f]{64}$/.test(s.token_hash) && s.token_hash !== again.token),
    );
    clock.advance(8 * 24 * 3600_000);
    assert.equal(await payments.login.authenticate(again.token), null, 'expired token');
  });

  test('checkout prices from the catalogue and answers PENDING with payment parameters', async () => {
    const { status: code, body } = await buy(alice, 'k1', [
      { productId: 'prd_tea', quantity: 2 },
      { productId: 'prd_cake', quantity: 1 },
    ]);
    assert.equal(code, 201);
    assert.equal(body.order.status, 'PENDING');
    assert.equal(body.order.totalFen, 600 * 2 + 1500);
    assert.equal(body.order.items.length, 2);
    assert.match(body.payment!.package, /^prepay_id=wx/);
    assert.deepEqual(
      (await events(body.order.id)).map((e) => e.type),
      ['order.created', 'order.pending'],
    );
  });

  test('idempotency: same key and body → same order; other body → 422; in flight → 409', async () => {
    const first = await buy(alice, 'same');
    const again = await buy(alice, 'same');
    assert.equal(again.body.order.id, first.body.order.id);
    await rejectsWith(
      buy(alice, 'same', [{ productId: 'prd_cake', quantity: 1 }]),
      422,
      'IDEMPOTENCY_KEY_REUSED',
    );
    // the same key belongs to each user separately
    const bobs = await buy(bob, 'same');
    assert.notEqual(bobs.body.order.id, first.body.order.id);

    // The first request holds its key while WeChat answers; the second, meanwhile, is refused.
    const hold = gateway.holdPrepay();
    const inFlight = buy(alice, 'race');
    await hold.entered;
    await rejectsWith(buy(alice, 'race'), 409, 'IDEMPOTENCY_IN_PROGRESS');
    hold.release();
    const raced = await inFlight;
    // The 409 left the first request's key alone: a retry replays its order.
    const replayed = await buy(alice, 'race');
    assert.equal(replayed.body.order.id, raced.body.order.id);
    const orders = await store.db
      .selectFrom('orders')
      .select('id')
      .where('user_id', '=', alice.id)
      .execute();
    assert.equal(orders.length, 2);
  });

  test('an unavailable product is 422 and writes nothing; a missing key is 400', async () => {
    await rejectsWith(
      buy(alice, 'k', [{ productId: 'prd_gone', quantity: 1 }]),
      422,
      'PRODUCT_UNAVAILABLE',
    );
    await rejectsWith(
      buy(alice, 'k', [{ productId: 'prd_nope', quantity: 1 }]),
      422,
      'PRODUCT_UNAVAILABLE',
    );
    await rejectsWith(
      buy(alice, 'k', [{ productId: 'prd_tea', quantity: 100 }]),
      400,
      'VALIDATION_FAILED',
    );
    await rejectsWith(
      payments.checkout.checkout(
        alice,
        { items: [{ productId: 'prd_tea', quantity: 1 }] },
        undefined,
        IP,
      ),
      400,
      'IDEMPOTENCY_KEY_REQUIRED',
    );
    assert.equal((await store.db.selectFrom('orders').selectAll().execute()).length, 0);
    assert.equal((await store.db.selectFrom('idempotency_keys').selectAll().execute()).length, 0);
    // the key is free again for a good request
    assert.equal((await buy(alice, 'k')).status, 201);
  });

  test('checkouts sharing a group commit: each its own order and key; a refusal refuses only itself', async () => {
    const grouped = buildPayments(store, gateway, { clock, storeTransact: true });
    const tea = [{ productId: 'prd_tea', quantity: 1 }];
    const gone = [{ productId: 'prd_gone', quantity: 1 }];
    const results = await Promise.allSettled([
      grouped.checkout.checkout(alice, { items: tea }, 'g1', IP),
      grouped.checkout.checkout(alice, { items: gone }, 'g2', IP),
      grouped.checkout.checkout(bob, { items: tea }, 'g1', IP),
      grouped.checkout.checkout(alice, { items: tea }, 'g1', IP),
      grouped.checkout.checkout(alice, { items: tea }, 'g3', IP),
    ]);
    const [a1, refused, b1, again, a3] = results;
    assert.equal(refused!.status, 'rejected');
    assert.equal(
      ((refused as PromiseRejectedResult).reason as DomainError).code,
      'PRODUCT_UNAVAILABLE',
    );
    // The same key twice at once: one checkout, the other told to wait (or given its answer).
    if (again!.status === 'rejected') {
      assert.equal((again.reason as DomainError).code, 'IDEMPOTENCY_IN_PROGRESS');
    }
    const done = [a1, b1, a3].map((r) => {
      assert.equal(r!.status, 'fulfilled', String((r as PromiseRejectedResult).reason));
      return (r as PromiseFulfilledResult<Awaited<ReturnType<typeof buy>>>).value.body;
    });
    assert.ok(done.every((b) => b.order.status === 'PENDING' && b.payment !== null));
    assert.equal(new Set(done.map((b) => b.order.id)).size, 3);
    const keys = await store.db.selectFrom('idempotency_keys').selectAll().execute();
    assert.deepEqual(keys.map((k) => `${k.key}:${k.state}`).sort(), [
      'g1:done',
      'g1:done',
      'g3:done',
    ]);
    assert.equal((await store.db.selectFrom('orders').selectAll().execute()).length, 3);
    for (const b of done) {
      assert.deepEqual(
        (await events(b.order.id)).map((e) => e.type),
        ['order.created', 'order.pending'],
      );
    }
    // A replay of each key gives its own order.
    const replay = await grouped.checkout.checkout(alice, { items: tea }, 'g1', IP);
    assert.equal(replay.body.order.id, done[0]!.order.id);
  });

  test('an ambiguous prepay is retried with the same out_trade_no', async () => {
    gateway.fail('prepay', ambiguous(), ambiguous());
    const { body } = await buy(alice, 'k');
    assert.equal(body.order.status, 'PENDING');
    const prepays = gateway.calls.filter((c) => c.op === 'prepay');
    assert.equal(prepays.length, 3);
    assert.ok(prepays.every((c) => c.outTradeNo === body.order.outTradeNo));
  });

  test('WeChat unavailable → 502, order stays CREATED; the same key resumes that order', async () => {
    gateway.fail('prepay', ambiguous(), ambiguous(), ambiguous());
    await rejectsWith(buy(alice, 'k'), 502, 'WECHATPAY_UNAVAILABLE');
    const [created] = await store.db.selectFrom('orders').selectAll().execute();
    assert.equal(created!.status, 'CREATED');
    const { body } = await buy(alice, 'k');
    assert.equal(body.order.id, created!.id);
    assert.equal(body.order.status, 'PENDING');
    assert.equal((await store.db.selectFrom('orders').selectAll().execute()).length, 1);
  });

  test('a refused prepay makes the order FAILED with WeChat reason', async () => {
    gateway.fail('prepay', new GatewayError('rejected', 'INVALID_REQUEST', 'bad openid'));
    const { status: code, body } = await buy(alice, 'k');
    assert.equal(code, 201);
    assert.equal(body.order.status, 'FAILED');
    assert.deepEqual(body.order.failure, { code: 'INVALID_REQUEST', message: 'bad openid' });
    assert.equal(body.payment, null);
  });

  test('notify: PAID once, even for 10 concurrent duplicates; one order.paid event', async () => {
    const { body } = await buy(alice, 'k');
    const notify = gateway.pay(body.order.outTradeNo);
    const first = await payments.confirmation.handleNotify({ headers: {}, body: notify });
    assert.equal(first.outcome, 'ok');
    assert.equal(first.result, 'paid');
    const dupes = await Promise.all(
      Array.from({ length: 10 }, () =>
        payments.confirmation.handleNotify({ headers: {}, body: notify }),
      ),
    );
    assert.ok(dupes.every((d) => d.outcome === 'ok' && d.result === 'duplicate'));
    assert.equal(await status(body.order.id), 'PAID');
    assert.equal((await events(body.order.id, 'order.paid')).length, 1);
    const [note] = await store.db.selectFrom('notifications').selectAll().execute();
    assert.equal(note!.received_count, 11);
  });

  test('10 concurrent first notifies → PAID once', async () => {
    const { body } = await buy(alice, 'k');
    const notify = gateway.pay(body.order.outTradeNo);
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        payments.confirmation.handleNotify({ headers: {}, body: notify }),
      ),
    );
    assert.equal(results.filter((r) => r.result === 'paid').length, 1);
    assert.ok(results.every((r) => r.outcome === 'ok'));
    assert.equal((await events(body.order.id, 'order.paid')).length, 1);
  });

  test('forged, wrong-amount, other-merchant and unknown notifies: anomaly, reject, not paid', async () => {
    const { body } = await buy(alice, 'k');
    const no = body.order.outTradeNo;
    gateway.pay(no);
    const forged = gateway.notifyBody(no, {}, 'wrong-key');
    const r1 = await payments.confirmation.handleNotify({ headers: {}, body: forged });
    assert.equal(r1.outcome, 'reject');
    assert.equal((await anomalies('invalid_notify')).length, 1);
    // Anyone can post garbage to the notify URL: distinct bodies with the same fault in the
    // same hour are one anomaly, not a row each.
    for (const fee of [2, 3, 4, 5]) {
      const junk = gateway.notifyBody(no, { totalFen: fee }, 'wrong-key');
      assert.equal(
        (await payments.confirmation.handleNotify({ headers: {}, body: junk })).outcome,
        'reject',
      );
    }
    assert.equal((await anomalies('invalid_notify')).length, 1, 'one row for the hour');

    const cheap = gateway.notifyBody(no, { totalFen: 1 });
    const r2 = await payments.confirmation.handleNotify({ headers: {}, body: cheap });
    assert.equal(r2.outcome, 'reject');
    assert.equal((await anomalies('amount_mismatch')).length, 1);
    await payments.confirmation.handleNotify({ headers: {}, body: cheap });
    assert.equal((await anomalies('amount_mismatch')).length, 1, 'a retried notify is one anomaly');

    const other = gateway.notifyBody(no, { appId: 'wx00000000000000ff' });
    const r3 = await payments.confirmation.handleNotify({ headers: {}, body: other });
    assert.equal(r3.outcome, 'reject');
    assert.equal((await anomalies('merchant_mismatch')).length, 1);

    const unknown = gateway.notifyBody(no, { outTradeNo: 'MPNOSUCHORDER0001' });
    const r4 = await payments.confirmation.handleNotify({ headers: {}, body: unknown });
    assert.equal(r4.outcome, 'reject');
    assert.equal((await anomalies('unknown_order')).length, 1);

    assert.equal(await status(body.order.id), 'PENDING');
    assert.equal((await events(body.order.id, 'order.paid')).length, 0);
  });

  test('sync=1 asks WeChat and marks PAID through the same transition', async () => {
    const { body } = await buy(alice, 'k');
    gateway.pay(body.order.outTradeNo);
    assert.equal((await payments.orders.get(alice, body.order.id)).status, 'PENDING');
    const synced = await payments.orders.get(alice, body.order.id, true);
    assert.equal(synced.status, 'PAID');
    assert.ok(synced.transactionId);
    const [paid] = await events(body.order.id, 'order.paid');
    assert.equal(JSON.parse(paid!.payload).source, 'query');
  });

  test('another user gets 404 for read, payment and cancel; lists are per user', async () => {
    const { body } = await buy(alice, 'k');
    await rejectsWith(payments.orders.get(bob, body.order.id), 404, 'NOT_FOUND');
    await rejectsWith(payments.orders.payment(bob, body.order.id), 404, 'NOT_FOUND');
    await rejectsWith(payments.orders.cancel(bob, body.order.id), 404, 'NOT_FOUND');
    assert.equal((await payments.orders.list(bob)).orders.length, 0);
    assert.equal((await payments.orders.list(alice)).orders.length, 1);
    assert.equal(await status(body.order.id), 'PENDING');
  });

  test('payment params are re-issued for PENDING only', async () => {
    const { body } = await buy(alice, 'k');
    const again = await payments.orders.payment(alice, body.order.id);
    assert.equal(again.payment.package, body.payment!.package);
    gateway.pay(body.order.outTradeNo);
    await payments.orders.get(alice, body.order.id, true);
    await rejectsWith(payments.orders.payment(alice, body.order.id), 409, 'ORDER_NOT_PENDING');
  });

  /** Runs the close job after WeChat's 5 minutes (plus `extraMs`) have passed. */
  const closeJob = async (extraMs = 0) => {
    clock.advance(CLOSE_MIN_AGE_MS + extraMs);
    return payments.maintenance.close();
  };

  test('cancel within 5 minutes: CLOSING at once, no payment parameters; the close job closes it at WeChat', async () => {
    const { body } = await buy(alice, 'k');
    const order = await payments.orders.cancel(alice, body.order.id);
    assert.equal(order.status, 'CLOSING');
    assert.deepEqual(
      gateway.calls.filter((c) => c.op === 'closeTrade'),
      [],
      'WeChat refuses closeorder within 5 minutes: not even asked',
    );
    assert.equal((await events(body.order.id, 'order.closing')).length, 1);
    await rejectsWith(payments.orders.payment(alice, body.order.id), 409, 'ORDER_CLOSING');
    assert.equal((await payments.orders.cancel(alice, body.order.id)).status, 'CLOSING');
    assert.equal((await payments.maintenance.close()).examined, 0, 'not due before 5 minutes');
    const run = await closeJob();
    assert.deepEqual(run, { examined: 1, changed: 1, errors: 0 });
    assert.equal(await status(body.order.id), 'CLOSED');
    assert.equal(gateway.trades.get(body.order.outTradeNo)!.state, 'CLOSED');
    assert.equal(
      (await payments.orders.cancel(alice, body.order.id)).status,
      'CLOSED',
      'idempotent',
    );
    const [closed] = await events(body.order.id, 'order.closed');
    assert.equal(JSON.parse(closed!.payload).reason, 'cancelled');
  });

  test('cancel after 5 minutes closes at once (query, close, query)', async () => {
    const { body } = await buy(alice, 'k');
    clock.advance(CLOSE_MIN_AGE_MS);
    const order = await payments.orders.cancel(alice, body.order.id);
    assert.equal(order.status, 'CLOSED');
    assert.deepEqual(
      gateway.calls.filter((c) => c.op !== 'prepay').map((c) => c.op),
      ['queryTrade', 'closeTrade', 'queryTrade'],
    );
  });

  test('closeorder SUCCESS but the trade still NOTPAY: stays CLOSING, never CLOSED, tried again later', async () => {
    const { body } = await buy(alice, 'k');
    gateway.closeLeavesNotpay = 1;
    await payments.orders.cancel(alice, body.order.id);
    await closeJob();
    assert.equal(await status(body.order.id), 'CLOSING', 'WeChat did not say CLOSED');
    assert.equal(gateway.trades.get(body.order.outTradeNo)!.state, 'NOTPAY');
    assert.equal((await payments.maintenance.close()).examined, 0, 'backed off');
    await closeJob();
    assert.equal(await status(body.order.id), 'CLOSED');
  });

  test('a payment racing the close job ends PAID, never CLOSED', async () => {
    const { body } = await buy(alice, 'k');
    await payments.orders.cancel(alice, body.order.id);
    gateway.beforeClose = (no) => gateway.pay(no);
    await closeJob();
    assert.equal(await status(body.order.id), 'PAID');
    assert.equal((await events(body.order.id, 'order.closed')).length, 0);
  });

  test('a notify while CLOSING wins (the shopper paid with the parameters it already had)', async () => {
    const { body } = await buy(alice, 'k');
    await payments.orders.cancel(alice, body.order.id);
    const notify = gateway.pay(body.order.outTradeNo);
    const r = await payments.confirmation.handleNotify({ headers: {}, body: notify });
    assert.equal(r.result, 'paid');
    assert.equal(await status(body.order.id), 'PAID');
    assert.equal((await closeJob()).examined, 0, 'nothing left to close');
  });

  test('a notify racing the closeorder wins; the close does not overwrite it', async () => {
    const { body } = await buy(alice, 'k');
    await payments.orders.cancel(alice, body.order.id);
    gateway.beforeClose = (no) => {
      gateway.beforeClose = undefined;
      const notify = gateway.pay(no);
      void payments.confirmation.handleNotify({ headers: {}, body: notify });
    };
    await closeJob();
    assert.equal(await status(body.order.id), 'PAID');
  });

  test('WeChat unreachable while closing: still CLOSING, the job tries again', async () => {
    const { body } = await buy(alice, 'k');
    gateway.fail('queryTrade', ambiguous());
    clock.advance(CLOSE_MIN_AGE_MS);
    const order = await payments.orders.cancel(alice, body.order.id);
    assert.equal(order.status, 'CLOSING');
    await closeJob();
    assert.equal(await status(body.order.id), 'CLOSED');
  });

  test('USERPAYING or ACCEPT (WeChat still working): not closed, asked again; the payment then wins', async () => {
    for (const state of ['USERPAYING', 'ACCEPT'] as const) {
      const { body } = await buy(alice, `k-${state}`);
      const trade = gateway.trades.get(body.order.outTradeNo)!;
      trade.state = state;
      assert.equal((await payments.orders.get(alice, body.order.id, true)).status, 'PENDING');
      clock.advance(CLOSE_MIN_AGE_MS);
      assert.equal((await payments.orders.cancel(alice, body.order.id)).status, 'CLOSING');
      const closes = () =>
        gateway.calls.filter(
          (c) => c.op === 'closeTrade' && c.outTradeNo === body.order.outTradeNo,
        );
      assert.equal(closes().length, 0, 'no closeorder while WeChat is taking the money');
      trade.state = 'NOTPAY';
      gateway.pay(body.order.outTradeNo);
      await closeJob();
      assert.equal(await status(body.order.id), 'PAID');
      assert.equal(closes().length, 0);
    }
  });

  test('money for a locally closed order: anomaly paid_after_close, flagged for refund, ok', async () => {
    const { body } = await buy(alice, 'k');
    await payments.orders.cancel(alice, body.order.id);
    await closeJob();
    const t = gateway.trades.get(body.order.outTradeNo)!;
    t.state = 'NOTPAY'; // WeChat let it through anyway
    const notify = gateway.pay(body.order.outTradeNo);
    const r = await payments.confirmation.handleNotify({ headers: {}, body: notify });
    assert.equal(r.outcome, 'ok');
    assert.equal(r.result, 'paid_after_close');
    const [a] = await anomalies('paid_after_close');
    assert.equal(a!.order_id, body.order.id);
    const row = await store.db
      .selectFrom('orders')
      .selectAll()
      .where('id', '=', body.order.id)
      .executeTakeFirstOrThrow();
    assert.equal(row.status, 'CLOSED');
    assert.equal(row.refund_required, 1);
  });

  test('expiry job closes PENDING orders past their time, not younger ones', async () => {
    const { body: old } = await buy(alice, 'k1');
    clock.advance(31 * 60_000);
    const { body: young } = await buy(alice, 'k2');
    const summary = await payments.maintenance.expire();
    assert.equal(summary.changed, 1);
    assert.equal(await status(old.order.id), 'CLOSED', 'older than 5 minutes: closed at once');
    assert.equal(await status(young.order.id), 'PENDING');
    const [closed] = await events(old.order.id, 'order.closed');
    assert.equal(JSON.parse(closed!.payload).reason, 'expired');
  });

  test('expiry finds a payment that never notified and marks it PAID instead', async () => {
    const { body } = await buy(alice, 'k');
    gateway.pay(body.order.outTradeNo);
    clock.advance(31 * 60_000);
    await payments.maintenance.expire();
    assert.equal(await status(body.order.id), 'PAID');
  });

  test('sweep queries overdue PENDING orders with back-off; a paid one becomes PAID', async () => {
    const { body: paid } = await buy(alice, 'k1');
    const { body: unpaid } = await buy(alice, 'k2');
    gateway.pay(paid.order.outTradeNo);
    assert.equal((await payments.maintenance.sweep()).examined, 0, 'not due yet');
    clock.advance(61_000);
    const s = await payments.maintenance.sweep();
    assert.equal(s.examined, 2);
    assert.equal(s.changed, 1);
    assert.equal(await status(paid.order.id), 'PAID');
    const row = await store.db
      .selectFrom('orders')
      .selectAll()
      .where('id', '=', unpaid.order.id)
      .executeTakeFirstOrThrow();
    assert.equal(row.query_attempts, 1);
    assert.equal((await payments.maintenance.sweep()).examined, 0, 'backed off');
  });

  test('an expired CREATED order (prepay never confirmed) becomes FAILED', async () => {
    gateway.fail('prepay', ambiguous(), ambiguous(), ambiguous());
    await rejectsWith(buy(alice, 'k'), 502, 'WECHATPAY_UNAVAILABLE');
    clock.advance(31 * 60_000);
    await payments.maintenance.expire();
    const [order] = await store.db.selectFrom('orders').selectAll().execute();
    assert.equal(order!.status, 'FAILED');
    assert.equal(order!.failure_code, 'PREPAY_UNCONFIRMED');
  });
});

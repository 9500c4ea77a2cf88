/**
 * Usual payment notifies that arrive together are paid a batch at a time
 * (`payPendingOrdersRecorded`), on both stores: every order PAID once, one `order.paid` event
 * each carrying `orderView`, one record per notify, however the repeats and racing notifies of
 * one order fall into batches.
 */
import assert from 'node:assert/strict';
import { beforeEach, test } from 'node:test';
import { sql } from 'kysely';
import type { Payments, SessionUser } from '../../../src/payments/index.js';
import { orderView } from '../../../src/payments/orders/order-view.js';
import {
  type PendingPayment,
  payPendingOrdersRecorded,
} from '../../../src/payments/orders/orders-repo.js';
import type { Store } from '../../../src/store/index.js';
import { MemoryGateway } from '../../support/memory-gateway.js';
import { buildPayments, TestClock } from '../../support/payments.js';
import { describeOnStores } from '../../support/stores.js';

describeOnStores('usual notifies paid in batches', (stores) => {
  let store: Store;
  let gateway: MemoryGateway;
  let payments: Payments;
  let buyer: SessionUser;

  beforeEach(async () => {
    store = await stores.fresh();
    gateway = new MemoryGateway();
    payments = buildPayments(store, gateway, { clock: new TestClock(), storeTransact: true });
    await payments.catalogue.seed([
      { id: 'prd_tea', name: 'Tea "Long" \\ 茶 🍵', priceFen: 600 },
      { id: 'prd_cake', name: 'Cake', priceFen: 1500 },
    ]);
    const { token } = await payments.login.login('code:openid-batch');
    buyer = (await payments.login.authenticate(token))!;
  });

  const buy = async (key: string) => {
    const items = [
      { productId: 'prd_cake', quantity: 1 },
      { productId: 'prd_tea', quantity: 2 },
    ];
    return (await payments.checkout.checkout(buyer, { items }, key, '127.0.0.1')).body.order;
  };
  const notify = (body: Buffer) => payments.confirmation.handleNotify({ headers: {}, body });
  const paidEvents = (orderId: string) =>
    store.db
      .selectFrom('order_events')
      .selectAll()
      .where('order_id', '=', orderId)
      .where('type', '=', 'order.paid')
      .execute();

  test('notifies of many orders at once: each PAID once, its event, its record', async () => {
    const orders = await Promise.all(Array.from({ length: 12 }, (_, i) => buy(`k${i}`)));
    const bodies = orders.map((o) => gateway.pay(o.outTradeNo));
    const handled = await Promise.all(bodies.map(notify));
    assert.deepEqual(
      handled.map((h) => h.result),
      orders.map(() => 'paid'),
    );
    for (const order of orders) {
      const row = await store.db
        .selectFrom('orders')
        .selectAll()
        .where('id', '=', order.id)
        .executeTakeFirstOrThrow();
      const items = await store.db
        .selectFrom('order_items')
        .selectAll()
        .where('order_id', '=', order.id)
        .execute();
      assert.equal(row.status, 'PAID');
      assert.equal(row.version, 2);
      const events = await paidEvents(order.id);
      assert.equal(events.length, 1);
      assert.deepEqual(JSON.parse(events[0]!.payload), {
        order: orderView(row, items),
        source: 'notify',
      });
    }
    const notes = await store.db.selectFrom('notifications').selectAll().execute();
    assert.equal(notes.length, 12);
    for (const note of notes) {
      assert.equal(note.outcome, 'paid');
      assert.equal(note.received_count, 1);
      assert.equal(note.order_id, orders.find((o) => o.outTradeNo === note.out_trade_no)!.id);
    }
  });

  test('the same notify many times at once: one paid, the rest duplicates, counted', async () => {
    const order = await buy('dup');
    const body = gateway.pay(order.outTradeNo);
    const handled = await Promise.all(Array.from({ length: 8 }, () => notify(body)));
    const results = handled.map((h) => h.result).sort();
    assert.deepEqual(results, [...Array(7).fill('duplicate'), 'paid']);
    assert.equal((await paidEvents(order.id)).length, 1);
    const notes = await store.db.selectFrom('notifications').selectAll().execute();
    assert.equal(notes.length, 1);
    assert.equal(notes[0]!.received_count, 8);
  });

  test('two payments of one order at once: one wins, the other is money to give back', async () => {
    const order = await buy('race');
    const first = gateway.pay(order.outTradeNo);
    const second = gateway.notifyBody(order.outTradeNo, {
      transactionId: '4200other',
      noticeId: '4200other',
    });
    const mixed = [await buy('mixed-a'), await buy('mixed-b')];
    gateway.pay(mixed[0]!.outTradeNo);
    const cheap = gateway.notifyBody(mixed[0]!.outTradeNo, { totalFen: 1 });
    const fine = gateway.pay(mixed[1]!.outTradeNo);
    const handled = await Promise.all([first, second, cheap, fine].map(notify));
    assert.deepEqual(
      handled.map((h) => h.result),
      ['paid', 'unexpected_state', 'amount_mismatch', 'paid'],
    );
    assert.equal((await paidEvents(order.id)).length, 1);
    const anomalies = await store.db.selectFrom('anomalies').select('kind').execute();
    assert.deepEqual(anomalies.map((a) => a.kind).sort(), ['amount_mismatch', 'duplicate_payment']);
  });

  test('a batch that fails leaves each notify to the full path: only the bad one fails', async () => {
    // The database refuses the event of an order whose attach says "poison".
    if (stores.kind === 'sqlite') {
      await sql`CREATE TRIGGER poison BEFORE INSERT ON order_events
        WHEN NEW.payload LIKE '%poison%' BEGIN SELECT RAISE(ABORT, 'poison'); END`.execute(
        store.db,
      );
    } else {
      await sql`CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
        IF NEW.payload LIKE '%poison%' THEN RAISE EXCEPTION 'poison'; END IF; RETURN NEW; END $$`.execute(
        store.db,
      );
      await sql`CREATE TRIGGER poison BEFORE INSERT ON order_events
        FOR EACH ROW EXECUTE FUNCTION poison()`.execute(store.db);
    }
    const [good, bad] = [await buy('good'), await buy('bad')];
    await store.db
      .updateTable('orders')
      .set({ attach: 'poison' })
      .where('id', '=', bad.id)
      .execute();
    const bodies = [gateway.pay(good.outTradeNo), gateway.pay(bad.outTradeNo)];
    const handled = await Promise.all(bodies.map(notify));
    assert.deepEqual(
      handled.map((h) => h.outcome),
      ['ok', 'retry'],
    );
    const status = async (id: string) =>
      (
        await store.db
          .selectFrom('orders')
          .select('status')
          .where('id', '=', id)
          .executeTakeFirstOrThrow()
      ).status;
    assert.equal(await status(good.id), 'PAID');
    assert.equal(await status(bad.id), 'PENDING');
    assert.equal((await paidEvents(good.id)).length, 1);
  });

  test('a batch never holds one trade or one notify twice, and pays only open orders', async () => {
    const [a, b] = [await buy('a'), await buy('b')];
    const payment = (outTradeNo: string, identity: string): PendingPayment => ({
      match: { outTradeNo, totalFen: 2700, currency: 'CNY' },
      transactionId: identity,
      paidAt: new Date(),
      notify: {
        id: `ntf_${identity}`,
        identity,
        outcome: 'paid',
        detail: 'OK',
        receivedAt: new Date().toISOString(),
      },
    });
    const run = (batch: PendingPayment[]) =>
      store.transact((trx) => payPendingOrdersRecorded(trx, batch, new Date(), { source: 't' }));
    await assert.rejects(run([payment(a.outTradeNo, 'x1'), payment(a.outTradeNo, 'x2')]));
    await assert.rejects(run([payment(a.outTradeNo, 'x1'), payment(b.outTradeNo, 'x1')]));
    const [paidA] = await run([payment(a.outTradeNo, 'x1')]);
    assert.equal(paidA?.order.status, 'PAID');
    const [againA, paidB] = await run([payment(a.outTradeNo, 'x3'), payment(b.outTradeNo, 'x4')]);
    assert.equal(againA, null);
    assert.equal(paidB?.order.status, 'PAID');
    assert.equal(paidB?.seenBefore, false);
    assert.equal((await paidEvents(a.id)).length, 1);
  });
});

/**
 * The usual payment notify's writes, on both stores: on PostgreSQL one statement
 * (`payPendingOrdersRecorded`, whose `order.paid` view the database builds), on SQLite four
 * statements in a transaction. Either way the event must carry exactly `orderView` of the paid row and its
 * items, and the notification's record must be what `recordPaymentNotify` writes.
 */
import assert from 'node:assert/strict';
import { beforeEach, test } from 'node:test';
import { recordPaymentNotify } from '../../../src/payments/confirmation/notifications-repo.js';
import type { Payments, SessionUser } from '../../../src/payments/index.js';
import { orderView } from '../../../src/payments/orders/order-view.js';
import { paysInOneStatement } from '../../../src/payments/orders/orders-repo.js';
import type { Store } from '../../../src/store/index.js';
import { MemoryGateway } from '../../support/memory-gateway.js';
import { buildPayments, TestClock } from '../../support/payments.js';
import { describeOnStores } from '../../support/stores.js';

/** Names and texts JSON must escape, and characters outside the BMP. */
const PRODUCTS = [
  { id: 'prd_quote', name: 'Tea "Dragon Well" \\ 龙井 🍵', priceFen: 600 },
  { id: 'prd_ctrl', name: 'Line\nbreak\ttab\u0001', priceFen: 1500 },
];

describeOnStores('the usual notify, in one statement on PostgreSQL', (stores) => {
  let store: Store;
  let gateway: MemoryGateway;
  let payments: Payments;
  let buyer: SessionUser;

  beforeEach(async () => {
    store = await stores.fresh();
    gateway = new MemoryGateway();
    payments = buildPayments(store, gateway, { clock: new TestClock() });
    await payments.catalogue.seed(PRODUCTS);
    const { token } = await payments.login.login('code:openid-one-statement');
    buyer = (await payments.login.authenticate(token))!;
  });

  const buy = async (key: string) => {
    const items = [
      { productId: 'prd_ctrl', quantity: 2 },
      { productId: 'prd_quote', quantity: 1 },
    ];
    const { body } = await payments.checkout.checkout(buyer, { items }, key, '127.0.0.1');
    return body.order;
  };
  const paidEvent = async (orderId: string) => {
    const rows = await store.db
      .selectFrom('order_events')
      .selectAll()
      .where('order_id', '=', orderId)
      .where('type', '=', 'order.paid')
      .execute();
    assert.equal(rows.length, 1);
    return JSON.parse(rows[0]!.payload) as unknown;
  };
  const rowsOf = async (orderId: string) => ({
    order: await store.db
      .selectFrom('orders')
      .selectAll()
      .where('id', '=', orderId)
      .executeTakeFirstOrThrow(),
    items: await store.db
      .selectFrom('order_items')
      .selectAll()
      .where('order_id', '=', orderId)
      .execute(),
  });

  test('the path: one statement on PostgreSQL only', () => {
    assert.equal(paysInOneStatement(store.db), stores.kind === 'postgres');
  });

  test("order.paid carries orderView of the paid row; the notify's record as recordPaymentNotify writes it", async () => {
    const order = await buy('k1');
    const attach = 'gift "for" \\ 李 \u0007 😀';
    await store.db.updateTable('orders').set({ attach }).where('id', '=', order.id).execute();
    const notify = gateway.pay(order.outTradeNo);
    const handled = await payments.confirmation.handleNotify({ headers: {}, body: notify });
    assert.deepEqual(handled, { outcome: 'ok', message: 'OK', result: 'paid' });
    const { order: row, items } = await rowsOf(order.id);
    assert.equal(row.status, 'PAID');
    assert.equal(row.next_query_at, null);
    assert.deepEqual(await paidEvent(order.id), {
      order: orderView(row, items),
      source: 'notify',
    });
    const [note] = await store.db.selectFrom('notifications').selectAll().execute();
    assert.equal(note!.kind, 'payment');
    assert.equal(note!.order_id, order.id);
    assert.equal(note!.out_trade_no, order.outTradeNo);
    assert.equal(note!.outcome, 'paid');
    assert.equal(note!.detail, 'OK');
    assert.equal(note!.received_count, 1);
    assert.equal(note!.created_at, note!.updated_at);
  });

  test('a notify recorded before (answered "retry") is counted up and linked to its order', async () => {
    const order = await buy('k2');
    const notify = gateway.pay(order.outTradeNo);
    // What a first delivery that failed leaves: the record, no order, outcome retry.
    const first = await payments.confirmation.handleNotify({ headers: {}, body: notify });
    assert.equal(first.result, 'paid');
    const [note] = await store.db.selectFrom('notifications').selectAll().execute();
    await store.db.deleteFrom('notifications').execute();
    await store.db.deleteFrom('order_events').where('type', '=', 'order.paid').execute();
    await store.db
      .updateTable('orders')
      .set({ status: 'PENDING', transaction_id: null, paid_at: null })
      .where('id', '=', order.id)
      .execute();
    await recordPaymentNotify(store.db, {
      identity: note!.identity,
      orderId: null,
      outTradeNo: order.outTradeNo,
      outcome: 'retry',
      detail: 'temporarily unable to process',
      at: note!.created_at,
    });
    const again = await payments.confirmation.handleNotify({ headers: {}, body: notify });
    assert.equal(again.result, 'paid');
    const [counted] = await store.db.selectFrom('notifications').selectAll().execute();
    assert.equal(counted!.received_count, 2);
    assert.equal(counted!.order_id, order.id);
    assert.equal(counted!.outcome, 'paid');
    const { order: row, items } = await rowsOf(order.id);
    assert.deepEqual(await paidEvent(order.id), {
      order: orderView(row, items),
      source: 'notify',
    });
  });

  test('anything but the usual case writes nothing in one statement and takes the full path', async () => {
    const order = await buy('k3');
    const notify = gateway.pay(order.outTradeNo);
    await payments.confirmation.handleNotify({ headers: {}, body: notify });
    const duplicate = await payments.confirmation.handleNotify({ headers: {}, body: notify });
    assert.equal(duplicate.result, 'duplicate');
    const cheap = gateway.notifyBody(order.outTradeNo, { totalFen: 1 });
    assert.equal(
      (await payments.confirmation.handleNotify({ headers: {}, body: cheap })).result,
      'amount_mismatch',
    );
    const events = await store.db
      .selectFrom('order_events')
      .select('type')
      .where('order_id', '=', order.id)
      .where('type', '=', 'order.paid')
      .execute();
    assert.equal(events.length, 1);
  });
});

/**
 * Stock: checkout takes it with one conditional UPDATE in the order's transaction (never below
 * zero, null = unlimited); the order's move to CLOSED or FAILED gives it back exactly once (a
 * CLOSING order, not yet closed at WeChat, still holds it); a paid order keeps it. On both
 * stores, with the store's transactions (group commit on SQLite) as the server runs them.
 */
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
import { buildPayments, TestClock } from '../../support/payments.js';
import { describeOnStores } from '../../support/stores.js';

const IP = '203.0.113.7';

describeOnStores('stock', (stores) => {
  let store: Store;
  let gateway: MemoryGateway;
  let clock: TestClock;
  let payments: Payments;
  let users = 0;

  const login = async () => {
    const { token } = await payments.login.login(`code:stock-user-${++users}`);
    return (await payments.login.authenticate(token))!;
  };
  let keys = 0;
  const buy = (who: SessionUser, items: { productId: string; quantity: number }[]) =>
    payments.checkout.checkout(who, { items }, `stock-${++keys}`, IP);
  const stock = async (id: string) =>
    (
      await store.db
        .selectFrom('products')
        .select('stock')
        .where('id', '=', id)
        .executeTakeFirstOrThrow()
    ).stock;
  const count = async (table: 'orders' | 'order_items' | 'idempotency_keys') =>
    (await store.db.selectFrom(table).selectAll().execute()).length;
  const row = (id: string) =>
    store.db.selectFrom('orders').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const refusal = (err: unknown) => {
    assert.ok(err instanceof DomainError, String(err));
    return { status: err.status, code: err.code, message: err.message };
  };

  beforeEach(async () => {
    store = await stores.fresh();
    gateway = new MemoryGateway();
    clock = new TestClock();
    payments = buildPayments(store, gateway, { clock, storeTransact: true });
    await payments.catalogue.seed([
      { id: 'prd_ten', name: 'Ten left', priceFen: 500, stock: 10 },
      { id: 'prd_three', name: 'Three left', priceFen: 800, stock: 3 },
      { id: 'prd_tea', name: 'Jasmine tea', priceFen: 600 },
    ]);
  });

  test('50 concurrent buyers of a stock of 10: exactly 10 orders, 40 OUT_OF_STOCK', async () => {
    const buyers = await Promise.all(Array.from({ length: 50 }, login));
    const results = await Promise.allSettled(
      buyers.map((b) => buy(b, [{ productId: 'prd_ten', quantity: 1 }])),
    );
    const sold = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r) => r.status === 'rejected');
    assert.equal(sold.length, 10);
    assert.equal(refused.length, 40);
    for (const r of refused) {
      const e = refusal(r.reason);
      assert.equal(e.status, 409);
      assert.equal(e.code, 'OUT_OF_STOCK');
      assert.match(e.message, /sold out/);
    }
    assert.equal(await stock('prd_ten'), 0);
    // A refusal wrote nothing and never reached WeChat.
    assert.equal(await count('orders'), 10);
    assert.equal(await count('order_items'), 10);
    assert.equal(await count('idempotency_keys'), 10);
    assert.equal(gateway.calls.filter((c) => c.op === 'prepay').length, 10);
  });

  test('a line over the stock refuses the whole order and takes nothing', async () => {
    const alice = await login();
    const err = await buy(alice, [
      { productId: 'prd_ten', quantity: 2 },
      { productId: 'prd_three', quantity: 4 },
    ]).catch((e: unknown) => e);
    assert.deepEqual(refusal(err), {
      status: 409,
      code: 'OUT_OF_STOCK',
      message: 'only 3 of "Three left" (prd_three) left, 4 asked; order fewer',
    });
    assert.equal(await stock('prd_ten'), 10);
    assert.equal(await stock('prd_three'), 3);
    assert.equal(await count('orders'), 0);
    // The same key then buys what is there; an unlimited product stays unlimited.
    const ok = await buy(alice, [
      { productId: 'prd_three', quantity: 3 },
      { productId: 'prd_tea', quantity: 5 },
    ]);
    assert.equal(ok.status, 201);
    assert.equal(await stock('prd_three'), 0);
    assert.equal(await stock('prd_tea'), null);
    const listed = await payments.catalogue.list();
    assert.equal(listed.find((p) => p.id === 'prd_three')?.stock, 0, 'the catalogue says 0');
  });

  test('closed (cancel, expiry, by WeChat) or failed gives stock back once; paid keeps it', async () => {
    const alice = await login();
    const one = [{ productId: 'prd_three', quantity: 1 }];
    const cancelled = (await buy(alice, one)).body.order;
    const paid = (await buy(alice, one)).body.order;
    const expired = (await buy(alice, one)).body.order;
    assert.equal(await stock('prd_three'), 0);

    // Cancel: CLOSING (WeChat closes no order within 5 minutes of it) still holds the stock;
    // asked twice at once, one PENDING → CLOSING wins.
    const o = await row(cancelled.id);
    await Promise.all([
      payments.orders.cancel(alice, cancelled.id),
      payments.trades.requestClose(o, 'admin'),
    ]);
    assert.equal((await row(cancelled.id)).status, 'CLOSING');
    assert.equal(await stock('prd_three'), 0);
    // Once WeChat has closed the trade (two close jobs at once): CLOSED, back once.
    clock.advance(5 * 60_000);
    await Promise.all([payments.maintenance.close(), payments.maintenance.close()]);
    assert.equal((await row(cancelled.id)).status, 'CLOSED');
    assert.equal(await stock('prd_three'), 1);
    await payments.orders.cancel(alice, cancelled.id);
    await payments.maintenance.close();
    assert.equal(await stock('prd_three'), 1);

    // Paid: kept.
    const notify = await payments.confirmation.handleNotify({
      headers: {},
      body: gateway.pay(paid.outTradeNo),
    });
    assert.equal(notify.result, 'paid');
    assert.equal(await stock('prd_three'), 1);

    // WeChat says a fourth one's trade is closed (a query finds it): back.
    const byWechat = (await buy(alice, one)).body.order;
    assert.equal(await stock('prd_three'), 0);
    gateway.trades.get(byWechat.outTradeNo)!.state = 'CLOSED';
    assert.equal((await payments.orders.get(alice, byWechat.id, true)).status, 'CLOSED');
    assert.equal(await stock('prd_three'), 1);

    // Expiry closes the third one: back.
    clock.advance(31 * 60_000);
    await payments.maintenance.expire();
    assert.equal((await row(expired.id)).status, 'CLOSED');
    assert.equal(await stock('prd_three'), 2);
    await payments.maintenance.expire();
    assert.equal(await stock('prd_three'), 2);
  });

  test('WeChat refusing the prepay (FAILED), or never confirming it (expired CREATED): back', async () => {
    const alice = await login();
    gateway.fail('prepay', new GatewayError('rejected', 'NOAUTH', 'no authority'));
    const failed = await buy(alice, [{ productId: 'prd_ten', quantity: 4 }]);
    assert.equal(failed.body.order.status, 'FAILED');
    assert.equal(await stock('prd_ten'), 10);

    gateway.fail('prepay', ambiguous(), ambiguous(), ambiguous());
    const err = await buy(alice, [{ productId: 'prd_ten', quantity: 4 }]).catch((e) => e);
    assert.equal(refusal(err).code, 'WECHATPAY_UNAVAILABLE');
    assert.equal(await stock('prd_ten'), 6, 'a CREATED order holds its stock');
    clock.advance(31 * 60_000);
    await payments.maintenance.expire();
    const [created] = await store.db
      .selectFrom('orders')
      .selectAll()
      .where('status', '=', 'FAILED')
      .where('failure_code', '=', 'PREPAY_UNCONFIRMED')
      .execute();
    assert.ok(created);
    assert.equal(await stock('prd_ten'), 10);
  });

  test('a payment for a CLOSED order takes no stock again: it stays CLOSED, refund required', async () => {
    const alice = await login();
    const order = (await buy(alice, [{ productId: 'prd_three', quantity: 2 }])).body.order;
    await payments.orders.cancel(alice, order.id);
    clock.advance(5 * 60_000); // WeChat's 5 minutes: then the close job closes it
    await payments.maintenance.close();
    assert.equal((await row(order.id)).status, 'CLOSED');
    assert.equal(await stock('prd_three'), 3);
    // WeChat took the money anyway (the close lost a race WeChat's side never told us of).
    const trade = gateway.trades.get(order.outTradeNo)!;
    trade.state = 'NOTPAY';
    const handled = await payments.confirmation.handleNotify({
      headers: {},
      body: gateway.pay(order.outTradeNo),
    });
    assert.equal(handled.result, 'paid_after_close');
    const after = await row(order.id);
    assert.equal(after.status, 'CLOSED');
    assert.equal(after.refund_required, 1);
    assert.equal(await stock('prd_three'), 3, 'never below what is really left');
    const anomalies = await store.db
      .selectFrom('anomalies')
      .selectAll()
      .where('kind', '=', 'paid_after_close')
      .execute();
    assert.equal(anomalies.length, 1);
  });

  test('lines that took no stock (unlimited then, or older rows) give nothing back', async () => {
    const alice = await login();
    const tea = (await buy(alice, [{ productId: 'prd_tea', quantity: 2 }])).body.order;
    const older = (await buy(alice, [{ productId: 'prd_ten', quantity: 2 }])).body.order;
    await payments.catalogue.update('prd_tea', { stock: 5 });
    // As a row written before stock was taken at checkout looks.
    await store.db
      .updateTable('order_items')
      .set({ stock_reserved: 0 })
      .where('order_id', '=', older.id)
      .execute();
    assert.equal(await stock('prd_ten'), 8);
    await payments.orders.cancel(alice, tea.id);
    await payments.orders.cancel(alice, older.id);
    assert.equal(await stock('prd_tea'), 5);
    assert.equal(await stock('prd_ten'), 8);
  });
});

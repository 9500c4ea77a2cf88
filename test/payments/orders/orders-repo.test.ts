/**
 * The orders repository is the only writer of orders (and the refunds repository of refunds),
 * and every write of an order stamps it the same way: one more `version`, `updated_at` now.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { beforeEach, test } from 'node:test';
import type { Payments, SessionUser } from '../../../src/payments/index.js';
import {
  claimVersion,
  findOrder,
  flagRefundRequired,
  renewPrepay,
  scheduleQuery,
} from '../../../src/payments/orders/orders-repo.js';
import type { Store } from '../../../src/store/index.js';
import { MemoryGateway } from '../../support/memory-gateway.js';
import { buildPayments, DEMO_PRODUCTS, TestClock } from '../../support/payments.js';
import { describeOnStores } from '../../support/stores.js';

const root = join(import.meta.dirname, '..', '..', '..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** The files of src/ (but the sandbox, which has tables of its own) that write `table`. */
function writersOf(table: string): string[] {
  const write = new RegExp(`(updateTable|insertInto|deleteFrom)\\(\\s*'${table}'`);
  return sources(join(root, 'src'))
    .filter((file) => !file.includes(`${join('src', 'sandbox')}`))
    .filter((file) => write.test(readFileSync(file, 'utf8')))
    .map((file) => relative(root, file));
}

test('only the orders repository writes orders, only the refunds repository refunds', () => {
  assert.deepEqual(writersOf('orders'), [join('src', 'payments', 'orders', 'orders-repo.ts')]);
  assert.deepEqual(writersOf('refunds'), [join('src', 'payments', 'refunds', 'refunds-repo.ts')]);
});

describeOnStores('every write of an order bumps its version and updated_at', (stores) => {
  let store: Store;
  let clock: TestClock;
  let payments: Payments;
  let user: SessionUser;

  beforeEach(async () => {
    store = await stores.fresh();
    clock = new TestClock();
    payments = buildPayments(store, new MemoryGateway(), { clock });
    await payments.catalogue.seed(DEMO_PRODUCTS);
    const { token } = await payments.login.login('code:o-stamp');
    user = (await payments.login.authenticate(token))!;
  });

  /** A PENDING order, and a function that applies a write a minute later and reads it back. */
  async function pending() {
    const { body } = await payments.checkout.checkout(
      user,
      { items: [{ productId: 'prd_tea', quantity: 1 }] },
      `k-${Math.random()}`,
      '127.0.0.1',
    );
    const before = (await findOrder(store.db, body.order.id))!;
    return {
      before,
      after: async (write: (at: Date) => Promise<unknown>) => {
        clock.advance(60_000);
        const at = clock.now();
        await write(at);
        const row = (await findOrder(store.db, before.id))!;
        return { row, at: at.toISOString() };
      },
    };
  }

  test('scheduling the next query (sweep and close job)', async () => {
    const { before, after } = await pending();
    const next = new Date(Date.now() + 3600_000);
    const { row, at } = await after((now) => scheduleQuery(store.db, before, 'PENDING', next, now));
    assert.equal(row.version, before.version + 1);
    assert.equal(row.updated_at, at);
    assert.equal(row.query_attempts, before.query_attempts + 1);
    assert.equal(row.next_query_at, next.toISOString());
  });

  test('a fresh prepay, the refund flag, and a claimed version', async () => {
    const { before, after } = await pending();
    const prepay = { prepayId: 'wx_fresh', prepayExpiresAt: new Date(Date.now() + 7200_000) };
    const renewed = await after((now) => renewPrepay(store.db, before.id, prepay, now));
    assert.equal(renewed.row.version, before.version + 1);
    assert.equal(renewed.row.updated_at, renewed.at);
    assert.equal(renewed.row.prepay_id, 'wx_fresh');

    const flagged = await after((now) => flagRefundRequired(store.db, before.id, now));
    assert.equal(flagged.row.version, before.version + 2);
    assert.equal(flagged.row.updated_at, flagged.at);
    assert.equal(flagged.row.refund_required, 1);

    const claimed = await after((now) => claimVersion(store.db, flagged.row, now));
    assert.equal(claimed.row.version, before.version + 3);
    assert.equal(claimed.row.updated_at, claimed.at);
    // A claim on a version that moved on changes nothing.
    assert.equal(await claimVersion(store.db, flagged.row, clock.now()), false);
    assert.equal((await findOrder(store.db, before.id))!.version, before.version + 3);
  });

  test('a transition (cancel: PENDING → CLOSING → CLOSED) bumps it once per change', async () => {
    const { before } = await pending();
    clock.advance(6 * 60_000); // past WeChat's five minutes, so the close goes through
    await payments.orders.cancel(user, before.id);
    const row = (await findOrder(store.db, before.id))!;
    assert.equal(row.status, 'CLOSED');
    assert.equal(row.version, before.version + 2);
    assert.ok(row.updated_at > before.updated_at && row.updated_at <= clock.now().toISOString());
  });
});

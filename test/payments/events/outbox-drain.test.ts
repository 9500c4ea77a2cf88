import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MinipayEvent } from '../../../src/payments/index.js';
import type { Store } from '../../../src/store/index.js';
import { MemoryGateway } from '../../support/memory-gateway.js';
import { buildPayments } from '../../support/payments.js';
import { describeOnStores } from '../../support/stores.js';

/** `n` undispatched events straight into the outbox, ids `<prefix>000`… in order. */
async function backlog(store: Store, n: number, prefix: string, orders = 1): Promise<void> {
  const at = new Date().toISOString();
  await store.db
    .insertInto('order_events')
    .values(
      Array.from({ length: n }, (_, i) => ({
        id: `${prefix}${String(i).padStart(3, '0')}`,
        order_id: `ord_${i % orders}`,
        type: 'order.paid',
        payload: JSON.stringify({ order: { id: `ord_${i % orders}` } }),
        created_at: at,
      })),
    )
    .execute();
}

describeOnStores('outbox relay', (stores) => {
  test('one run of the relay job clears a backlog of several batches, in order', async () => {
    const store = await stores.fresh();
    const payments = buildPayments(store, new MemoryGateway());
    // 250 events: two full batches of 100 and a part. One batch a run fell behind any shop
    // paying more than 50 times a second.
    await backlog(store, 250, 'evt_backlog_', 7);
    const seen: string[] = [];
    payments.events.subscribe((event: MinipayEvent) => {
      seen.push(event.id);
    });
    const run = await payments.outbox.drain();
    assert.deepEqual(run, { examined: 250, changed: 250, errors: 0 });
    assert.equal(seen.length, 250);
    assert.deepEqual(seen, [...seen].sort(), 'oldest first');
    assert.equal((await payments.outbox.relay()).examined, 0, 'nothing left');
  });

  test('a failing subscriber stops the run at its event; the next run starts there', async () => {
    const store = await stores.fresh();
    const payments = buildPayments(store, new MemoryGateway());
    await backlog(store, 150, 'evt_fail_');
    let failOn: string | null = 'evt_fail_120';
    payments.events.subscribe((event: MinipayEvent) => {
      if (event.id === failOn) throw new Error('subscriber down');
    });
    const first = await payments.outbox.drain();
    assert.deepEqual(first, { examined: 150, changed: 120, errors: 1 });
    failOn = null;
    const second = await payments.outbox.drain();
    assert.deepEqual(second, { examined: 30, changed: 30, errors: 0 });
  });
});

test('drainBatches: full batches go on; a short batch, an error or the spent budget stop', async () => {
  const { drainBatches } = await import('../../../src/payments/events/drain.js');
  const sizes = [50, 50, 20, 50];
  let calls = 0;
  const short = await drainBatches(
    async () => ({ examined: sizes[calls++] ?? 0, changed: 1, errors: 0 }),
    50,
    60_000,
  );
  assert.deepEqual([calls, short.examined, short.changed], [3, 120, 3]);
  calls = 0;
  const failing = await drainBatches(
    async () => ({ examined: 50, changed: 49, errors: calls++ === 1 ? 1 : 0 }),
    50,
    60_000,
  );
  assert.deepEqual([calls, failing.errors], [2, 1]);
  calls = 0;
  const endless = await drainBatches(
    async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 20));
      return { examined: 50, changed: 50, errors: 0 };
    },
    50,
    1000,
  );
  // 20 ms a batch: about 50 fit in the second; the run ended there, not at the first batch.
  assert.ok(calls >= 2 && calls <= 60, `${calls} batches in a 1 s budget`);
  assert.equal(endless.examined, calls * 50);
});

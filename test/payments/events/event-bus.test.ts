import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MinipayEvent } from '../../../src/payments/events/events.js';
import { buildEvent } from '../../../src/payments/events/events.js';
import { EventBus } from '../../../src/payments/events/outbox.js';

const events = ['ord_1', 'ord_2', 'ord_3'].map((id) =>
  buildEvent('order.paid', { order: { id } }, new Date(), `evt_${id}`),
);

describe('event bus: batch listeners', () => {
  it('a batch listener gets the relay batch at once; per-event listeners each event', async () => {
    const bus = new EventBus();
    const batches: string[][] = [];
    const each: string[] = [];
    bus.subscribeBatch(async (batch) => {
      batches.push(batch.map((e) => e.id));
    });
    bus.subscribe((event) => {
      each.push(event.id);
    });
    assert.equal(await bus.publishBatch(events), true);
    for (const event of events) await bus.publish(event, true);
    assert.deepEqual(batches, [['evt_ord_1', 'evt_ord_2', 'evt_ord_3']]);
    assert.deepEqual(each, ['evt_ord_1', 'evt_ord_2', 'evt_ord_3']);
    assert.equal(bus.size, 2);
  });

  it('after a failed batch each event is handed over alone, and only the bad one throws', async () => {
    const bus = new EventBus();
    const seen: string[][] = [];
    bus.subscribeBatch(async (batch: readonly MinipayEvent[]) => {
      seen.push(batch.map((e) => e.id));
      if (batch.some((e) => e.id === 'evt_ord_2')) throw new Error('bad event');
    });
    assert.equal(await bus.publishBatch(events), false);
    await bus.publish(events[0]!, false);
    await assert.rejects(bus.publish(events[1]!, false), /bad event/);
    await bus.publish(events[2]!, false);
    assert.deepEqual(seen, [
      ['evt_ord_1', 'evt_ord_2', 'evt_ord_3'],
      ['evt_ord_1'],
      ['evt_ord_2'],
      ['evt_ord_3'],
    ]);
  });

  it('unsubscribing a batch listener stops it', async () => {
    const bus = new EventBus();
    let calls = 0;
    const off = bus.subscribeBatch(async () => {
      calls++;
    });
    off();
    assert.equal(await bus.publishBatch(events), true);
    await bus.publish(events[0]!);
    assert.equal(calls, 0);
    assert.equal(bus.size, 0);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  buildEvent,
  EVENT_TYPES,
  newEventId,
  orderEventType,
  refundEventType,
} from '../../../src/payments/events/events.js';

describe('fulfilment events', () => {
  it('lists exactly the types docs/http-api.md documents', () => {
    assert.deepEqual([...EVENT_TYPES].sort(), [
      'anomaly.detected',
      'order.closed',
      'order.closing',
      'order.created',
      'order.failed',
      'order.paid',
      'order.partially_refunded',
      'order.pending',
      'order.receipt_confirmed',
      'order.refunded',
      'order.settled',
      'order.shipment_corrected',
      'order.shipped',
      'reconciliation.completed',
      'reconciliation.mismatch',
      'refund.created',
      'refund.failed',
      'refund.succeeded',
    ]);
  });
  it('builds the documented envelope', () => {
    const now = new Date('2026-11-22T08:00:00.000Z');
    const event = buildEvent('order.paid', { order: { id: 'ord_1' } }, now, 'evt_x');
    assert.deepEqual(event, {
      id: 'evt_x',
      type: 'order.paid',
      createdAt: '2026-11-22T08:00:00.000Z',
      data: { order: { id: 'ord_1' } },
    });
  });
  it('refuses a refund or anomaly event without its object', () => {
    assert.throws(() => buildEvent('refund.succeeded', { order: {} }), /data\.refund/);
    assert.throws(() => buildEvent('anomaly.detected', { order: {} }), /data\.anomaly/);
    assert.equal(buildEvent('refund.failed', { order: {}, refund: {} }).type, 'refund.failed');
  });
  it('refuses an order event without its order, a reconciliation event without its run', () => {
    assert.throws(() => buildEvent('order.paid', {}), /data\.order/);
    assert.throws(() => buildEvent('reconciliation.completed', {}), /data\.reconciliation/);
    const event = buildEvent('reconciliation.mismatch', { reconciliation: { day: '2026-12-03' } });
    assert.equal(event.data.order, undefined);
  });
  it('mints opaque, unique ids', () => {
    const ids = new Set(Array.from({ length: 1000 }, newEventId));
    assert.equal(ids.size, 1000);
    for (const id of ids) assert.match(id, /^evt_[A-Za-z0-9_-]{27}$/);
  });
  it('maps order and refund states to event types', () => {
    assert.equal(orderEventType('PAID'), 'order.paid');
    assert.equal(orderEventType('PARTIALLY_REFUNDED'), 'order.partially_refunded');
    assert.equal(orderEventType('NOPE'), null);
    assert.equal(refundEventType('PROCESSING'), 'refund.created');
    assert.equal(refundEventType('SUCCESS'), 'refund.succeeded');
    for (const s of ['CHANGE', 'REFUNDCLOSE', 'FAILED'])
      assert.equal(refundEventType(s), 'refund.failed');
    assert.equal(refundEventType('PENDING'), null);
  });
});

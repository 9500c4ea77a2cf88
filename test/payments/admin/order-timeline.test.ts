import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildTimeline, type TimelineSources } from '../../../src/payments/admin/order-timeline.js';
import type { OrderRow } from '../../../src/payments/orders/order-view.js';

const T = (s: number) => new Date(Date.UTC(2026, 10, 22, 8, 0, s)).toISOString();

const order: OrderRow = {
  id: 'ord_1',
  out_trade_no: 'MP1',
  user_id: 'usr_1',
  openid: 'o1',
  status: 'PARTIALLY_REFUNDED',
  description: 'tea',
  total_fen: 1200,
  currency: 'CNY',
  attach: null,
  payer_ip: '10.0.0.1',
  prepay_id: 'wx_prepay_secretish',
  prepay_expires_at: null,
  transaction_id: '4200',
  paid_at: T(3),
  closed_at: null,
  refunded_fen: 500,
  failure_code: null,
  failure_message: null,
  refund_required: 0,
  query_attempts: 0,
  next_query_at: null,
  close_reason: null,
  wechatpay_api: 'v2',
  expires_at: T(1800),
  version: 3,
  created_at: T(0),
  updated_at: T(9),
};

const event = (seq: number, type: string, at: string, payload: Record<string, unknown>) => ({
  id: `evt_${seq}`,
  seq,
  order_id: order.id,
  type,
  payload: JSON.stringify(payload),
  created_at: at,
  dispatched_at: at,
});

const refund = (id: string, status: string, at: string) => ({
  id,
  order_id: order.id,
  out_refund_no: `RF${id}`,
  refund_id: null,
  amount_fen: 500,
  reason: null,
  status,
  source: 'minipay',
  failure_code: status === 'SUCCESS' ? null : 'NOTENOUGH',
  failure_message: null,
  created_at: at,
  updated_at: T(8),
  succeeded_at: status === 'SUCCESS' ? T(7) : null,
  query_attempts: 0,
  next_query_at: null,
  retry_code: null,
  retry_message: null,
});

function sources(overrides: Partial<TimelineSources> = {}): TimelineSources {
  return {
    order,
    events: [],
    calls: [],
    notifications: [],
    refunds: [],
    anomalies: [],
    deliveries: [],
    ...overrides,
  } as TimelineSources;
}

test('at the same instant the WeChat call comes before the transition it caused; sources merge by time', () => {
  const timeline = buildTimeline(
    sources({
      events: [
        event(1, 'order.created', T(0), { order: { totalFen: 1200 } }),
        event(2, 'order.pending', T(1), { order: {} }),
        event(3, 'order.paid', T(3), { order: { transactionId: '4200' }, source: 'query' }),
      ],
      calls: [
        {
          id: 'gwc_1',
          order_id: order.id,
          operation: 'unifiedorder',
          outcome: 'ok',
          detail: '{}',
          duration_ms: 5,
          created_at: T(1),
        },
        {
          id: 'gwc_2',
          order_id: order.id,
          operation: 'orderquery',
          outcome: 'ok',
          detail: JSON.stringify({ state: 'SUCCESS' }),
          duration_ms: 5,
          created_at: T(3),
        },
      ],
    }),
  );
  assert.deepEqual(
    timeline.map((e) => e.kind),
    ['order.created', 'prepay.succeeded', 'order.pending', 'query.made', 'order.paid'],
  );
  assert.equal(timeline[4]!.data.source, 'query');
  assert.ok(!JSON.stringify(timeline).includes('wx_prepay_secretish'));
});

test('refunds: one succeeded entry whether the event or the row says it; a failed refund without an event still shows', () => {
  const settled = refund('rfd_ok', 'SUCCESS', T(5));
  const failed = refund('rfd_no', 'REFUNDCLOSE', T(6));
  const kinds = (s: TimelineSources) => buildTimeline(s).map((e) => e.kind);
  const withEvent = sources({
    refunds: [settled, failed],
    events: [
      event(1, 'refund.created', T(5), { refund: { id: 'rfd_ok' } }),
      event(2, 'refund.succeeded', T(7), { refund: { id: 'rfd_ok', amountFen: 500 } }),
    ],
  });
  assert.deepEqual(kinds(withEvent), [
    'refund.requested',
    'refund.requested',
    'refund.succeeded',
    'refund.failed',
  ]);
  const rowsOnly = sources({ refunds: [settled] });
  assert.deepEqual(kinds(rowsOnly), ['refund.requested', 'refund.succeeded']);
  const failedEntry = buildTimeline(withEvent).at(-1)!;
  assert.match(failedEntry.summary, /REFUNDCLOSE: NOTENOUGH/);
});

test('anomalies come from their rows (the event is not repeated), resolved ones twice', () => {
  const timeline = buildTimeline(
    sources({
      events: [event(1, 'anomaly.detected', T(4), { anomaly: { id: 'anm_1' } })],
      anomalies: [
        {
          id: 'anm_1',
          kind: 'paid_after_close',
          order_id: order.id,
          out_trade_no: order.out_trade_no,
          dedupe_key: 'k',
          detail: JSON.stringify({ transactionId: '4200' }),
          status: 'resolved',
          created_at: T(4),
          resolved_at: T(9),
          resolution: 'refunded by hand',
        },
      ],
    }),
  );
  assert.deepEqual(
    timeline.map((e) => e.kind),
    ['anomaly.detected', 'anomaly.resolved'],
  );
  assert.deepEqual(timeline[0]!.data.detail, { transactionId: '4200' });
  assert.match(timeline[1]!.summary, /refunded by hand/);
});

test('webhooks: delivered and failed attempts, never the query string of the URL; unattempted ones are not shown', () => {
  const delivery = (id: string, status: string, attempts: number, at: string | null) => ({
    id,
    event_id: 'evt_1',
    event_type: 'order.paid',
    url: 'https://shop.example/hooks/minipay?token=s3cret&x=1',
    status,
    attempts,
    last_attempt_at: at,
    next_attempt_at: null,
    last_status_code: status === 'delivered' ? 200 : null,
    last_error: 'connect ECONNREFUSED token=s3cret',
    created_at: T(3),
    first_attempt_at: at,
  });
  const timeline = buildTimeline(
    sources({
      events: [event(1, 'order.paid', T(3), { order: {}, source: 'notify' })],
      deliveries: [
        delivery('whd_1', 'delivered', 2, T(5)),
        delivery('whd_2', 'dead', 9, T(6)),
        delivery('whd_3', 'pending', 0, null),
      ],
    }),
  );
  assert.deepEqual(
    timeline.map((e) => e.kind),
    ['order.paid', 'webhook.delivered', 'webhook.failed'],
  );
  assert.match(timeline[2]!.summary, /dead-lettered/);
  const text = JSON.stringify(timeline);
  assert.ok(!text.includes('s3cret'), text);
  assert.ok(text.includes('https://shop.example/hooks/minipay'));
});

test('notifies: one received entry, and one for all of its repeats', () => {
  const timeline = buildTimeline(
    sources({
      notifications: [
        {
          id: 'ntf_1',
          kind: 'payment',
          identity: '4200',
          order_id: order.id,
          out_trade_no: order.out_trade_no,
          outcome: 'duplicate',
          detail: 'OK',
          received_count: 3,
          created_at: T(3),
          updated_at: T(30),
        },
        {
          id: 'ntf_2',
          kind: 'refund',
          identity: 'r1',
          order_id: order.id,
          out_trade_no: order.out_trade_no,
          outcome: 'mismatch',
          detail: null,
          received_count: 1,
          created_at: T(10),
          updated_at: T(10),
        },
      ],
    }),
  );
  assert.deepEqual(
    timeline.map((e) => e.kind),
    ['notify.received', 'refund_notify.rejected', 'notify.repeated'],
  );
  assert.equal(timeline[2]!.data.receivedCount, 3);
});

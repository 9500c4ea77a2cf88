/**
 * `reconciliation.completed` / `reconciliation.mismatch` end to end: runs against the sandbox
 * (its bills made to disagree by the `billRows` fault) write them to the outbox, the relay hands
 * them to in-process subscribers and to a webhook receiver (signed, retried after a failure),
 * the admin events list shows them. A re-run with the same differences writes no new mismatch;
 * writing a run's events again adds nothing. On SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { type TestContext, test } from 'node:test';
import { verifyWebhookSignature } from '../../../src/payments/events/webhook-signature.js';
import { dayOf, type MinipayEvent } from '../../../src/payments/index.js';
import {
  openDigest,
  writeRunEvents,
} from '../../../src/payments/reconciliation/reconciliation-events.js';
import { listenUntilEnd } from '../../support/listen.js';
import { type SandboxServer, startSandboxServer } from '../../support/sandbox-server.js';
import { describeOnStores } from '../../support/stores.js';

const SECRET = 'whsec-test-0123456789abcdef';
/** 10:00 Beijing tomorrow at the latest: today's bill is published. */
const BILL_PUBLISHED_MS = 34 * 3600_000;

interface Arrival {
  headers: IncomingHttpHeaders;
  raw: Buffer;
  status: number;
}

async function receiver(t: TestContext) {
  const state = { status: 204, arrivals: [] as Arrival[] };
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    state.arrivals.push({ headers: req.headers, raw: Buffer.concat(chunks), status: state.status });
    res.writeHead(state.status);
    res.end();
  });
  return { state, url: `${await listenUntilEnd(t, server)}/hook` };
}

/** The arrivals of reconciliation events (the orders' own events arrive too). */
function ours(arrivals: Arrival[]): Arrival[] {
  return arrivals.filter((a) =>
    String(a.headers['minipay-event-type']).startsWith('reconciliation.'),
  );
}

function reconciliationEvents(s: SandboxServer) {
  return s.server.store.db
    .selectFrom('order_events')
    .selectAll()
    .where('type', 'like', 'reconciliation.%')
    .orderBy('seq')
    .execute();
}

/** The relay, then the webhook deliveries, as the jobs would run them. */
async function dispatch(s: SandboxServer) {
  await s.server.payments.outbox.drain();
  await s.server.payments.webhooks.deliverAll();
}

interface RunData {
  id: string;
  date: string;
  status: string;
  differences: number;
  attempts: number;
}
type Mismatch = { open: number; items: { kind: string; key: string; orderId: string | null }[] };

describeOnStores('reconciliation events', (stores) => {
  test('completed every run, mismatch when the open differences change; webhooks and subscribers get them', async (t) => {
    const r = await receiver(t);
    const s = await startSandboxServer(t, await stores.freshUrl(), {
      config: { webhookUrls: [r.url], webhookSecrets: [SECRET] },
      webhookRetry: { baseMs: 1000, capMs: 1000, windowMs: 3600_000 },
    });
    const subscribed: MinipayEvent[] = [];
    s.server.payments.events.subscribe((e) => {
      if (e.type.startsWith('reconciliation.')) subscribed.push(e);
    });
    await s.paidOrder(1);
    const different = await s.paidOrder(1);
    const day = dayOf(new Date());
    await s.sandbox.setFaults({
      billRows: { omit: [], amountFen: { [different.outTradeNo]: 601 }, extra: 0, foreign: 0 },
    });
    s.sandbox.advanceClock(BILL_PUBLISHED_MS);
    const engine = s.server.payments.reconciliation;

    // Run 1: one amount mismatch. The receiver fails the first attempt; the retry delivers.
    assert.equal((await engine.run(day)).status, 'differences');
    const first = await reconciliationEvents(s);
    assert.deepEqual(
      first.map((e) => [e.type, e.order_id]),
      [
        ['reconciliation.completed', null],
        ['reconciliation.mismatch', null],
      ],
    );
    const mismatch = JSON.parse(first[1]!.payload) as {
      reconciliation: RunData;
      differences: Mismatch;
    };
    assert.deepEqual(
      [mismatch.reconciliation.id, mismatch.reconciliation.date, mismatch.reconciliation.status],
      [`${day}.1`, day, 'differences'],
    );
    assert.equal(mismatch.differences.open, 1);
    assert.deepEqual(
      mismatch.differences.items.map((i) => [i.kind, i.key, i.orderId]),
      [['amount_mismatch', different.outTradeNo, different.id]],
    );

    r.state.status = 503;
    await dispatch(s);
    assert.equal(subscribed.length, 2, JSON.stringify(subscribed.map((e) => e.type)));
    assert.equal(ours(r.state.arrivals).length, 2);
    const failed = await s.server.store.db
      .selectFrom('webhook_deliveries')
      .select(['status', 'event_type'])
      .where('event_type', 'like', 'reconciliation.%')
      .execute();
    assert.deepEqual(
      failed.map((d) => d.status),
      ['failed', 'failed'],
    );
    r.state.status = 204;
    s.clock.advance(2000);
    await dispatch(s);
    const acked = ours(r.state.arrivals).filter((a) => a.status === 204);
    assert.deepEqual(acked.map((a) => a.headers['minipay-event-type']).sort(), [
      'reconciliation.completed',
      'reconciliation.mismatch',
    ]);
    for (const a of acked) {
      assert.ok(verifyWebhookSignature(SECRET, a.headers['minipay-signature'], a.raw).ok);
      const event = JSON.parse(a.raw.toString('utf8')) as MinipayEvent;
      assert.equal(event.id, a.headers['minipay-event-id']);
      assert.equal(event.data.order, undefined);
      assert.deepEqual(
        event,
        subscribed.find((e) => e.id === event.id),
      );
    }

    // Run 2, nothing changed: completed again, no new mismatch.
    await engine.run(day);
    let events = await reconciliationEvents(s);
    assert.deepEqual(
      events.slice(2).map((e) => e.type),
      ['reconciliation.completed'],
    );
    assert.equal(JSON.parse(events[2]!.payload).reconciliation.id, `${day}.2`);

    // Run 3: the bill now has an extra row too: a mismatch with both.
    await s.sandbox.setFaults({
      billRows: { omit: [], amountFen: { [different.outTradeNo]: 601 }, extra: 0, foreign: 1 },
    });
    await engine.run(day);
    events = await reconciliationEvents(s);
    assert.deepEqual(
      events.slice(3).map((e) => e.type),
      ['reconciliation.completed', 'reconciliation.mismatch'],
    );
    assert.equal((JSON.parse(events[4]!.payload).differences as Mismatch).open, 2);

    // Run 4: the bill agrees again: completed, matched.
    await s.sandbox.setFaults({ billRows: { omit: [], amountFen: {}, extra: 0, foreign: 0 } });
    assert.equal((await engine.run(day)).status, 'matched');
    events = await reconciliationEvents(s);
    assert.deepEqual(
      events.slice(5).map((e) => [e.type, JSON.parse(e.payload).reconciliation.status]),
      [['reconciliation.completed', 'matched']],
    );
    assert.equal(new Set(events.map((e) => e.id)).size, events.length);

    const listed = await s.admin('GET', '/admin/v1/events?type=reconciliation.mismatch');
    assert.equal(listed.status, 200, listed.text);
    const page = listed.json as unknown as { events: { id: string; orderId: string | null }[] };
    assert.deepEqual(
      page.events.map((e) => [e.id, e.orderId]),
      [events[4]!, events[1]!].map((e) => [e.id, null]),
    );
    await dispatch(s);
    assert.equal(subscribed.length, events.length, 'each event to subscribers once');
  });

  test("a run's events are keyed by the run: writing them again adds nothing", async (t) => {
    const s = await startSandboxServer(t, await stores.freshUrl());
    const order = await s.paidOrder(1);
    const day = dayOf(new Date());
    await s.sandbox.setFaults({
      billRows: { omit: [order.outTradeNo], amountFen: {}, extra: 0, foreign: 0 },
    });
    s.sandbox.advanceClock(BILL_PUBLISHED_MS);
    await s.server.payments.reconciliation.run(day);
    const db = s.server.store.db;
    const run = await db
      .selectFrom('reconciliation_runs')
      .selectAll()
      .where('day', '=', day)
      .executeTakeFirstOrThrow();
    const before = await reconciliationEvents(s);
    assert.deepEqual(
      before.map((e) => e.type),
      ['reconciliation.completed', 'reconciliation.mismatch'],
    );
    const claim = { day, attempt: run.attempts, startedAt: run.started_at };
    const written = await writeRunEvents(db, claim, 'a digest before the run', new Date());
    assert.deepEqual(written, ['reconciliation.completed', 'reconciliation.mismatch']);
    assert.deepEqual(await reconciliationEvents(s), before);
    assert.notEqual(await openDigest(db, day), 'a digest before the run');
  });
});

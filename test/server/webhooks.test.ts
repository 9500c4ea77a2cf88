/**
 * The outbox and webhooks end to end: order and refund events from a real flow (server and
 * sandbox over loopback) reach a merchant receiver that is down for a while, signed, each event
 * acknowledged once; dead-lettering after the retry window, replay, in-process subscribers,
 * and the admin endpoints. On SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/app/config.js';
import { verifyWebhookSignature } from '../../src/payments/events/webhook-signature.js';
import type { Delivery, MinipayEvent } from '../../src/payments/index.js';
import { listenUntilEnd } from '../support/listen.js';
import { startSandboxServer, until } from '../support/sandbox-server.js';
import { ADMIN_TOKEN } from '../support/server.js';
import { describeOnStores } from '../support/stores.js';

const SECRET = 'whsec-test-0123456789abcdef';

interface Arrival {
  headers: IncomingHttpHeaders;
  raw: Buffer;
  status: number;
}

/** A merchant's webhook endpoint: answers `status` (503 while "down"), records everything. */
async function receiver(t: import('node:test').TestContext) {
  const state = { status: 503, arrivals: [] as Arrival[] };
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    state.arrivals.push({ headers: req.headers, raw: Buffer.concat(chunks), status: state.status });
    res.writeHead(state.status);
    res.end();
  });
  const url = `${await listenUntilEnd(t, server)}/minipay/webhook`;
  return { state, url };
}

type Deliveries = { deliveries: Delivery[]; nextCursor: string | null };

describeOnStores('webhooks and the outbox', (stores) => {
  test('receiver down, then up: every event arrives signed and is acknowledged once; replay sends again', async (t) => {
    const r = await receiver(t);
    const s = await startSandboxServer(t, await stores.freshUrl(), {
      config: { webhookUrls: [r.url], webhookSecrets: [SECRET], jobIntervalSeconds: 1 },
      jobs: true,
      webhookRetry: { baseMs: 100, capMs: 400, windowMs: 120_000 },
    });
    const subscribed: MinipayEvent[] = [];
    s.server.payments.events.subscribe((e) => {
      subscribed.push(e);
    });

    const order = await s.paidOrder(1);
    const refund = await s.admin('POST', `/admin/v1/orders/${order.id}/refunds`, {
      body: { amountFen: 600 },
      headers: { 'idempotency-key': `wh-${process.pid}-1` },
    });
    assert.equal(refund.status, 201, refund.text);
    const events = async () =>
      s.server.store.db.selectFrom('order_events').select(['id', 'type']).orderBy('seq').execute();
    await until(async () => (await events()).some((e) => e.type === 'refund.succeeded'));
    await until(() => r.state.arrivals.length >= 8, 20_000, 'failed attempts while down');
    const failing = (await s.admin('GET', '/admin/v1/webhooks/deliveries?status=failed'))
      .json as unknown as Deliveries;
    assert.ok(failing.deliveries.length > 0);
    assert.ok(failing.deliveries.every((d) => d.lastStatusCode === 503 && d.nextAttemptAt));

    r.state.status = 204;
    const all = await events();
    assert.deepEqual(
      all.map((e) => e.type),
      [
        'order.created',
        'order.pending',
        'order.paid',
        'refund.created',
        'order.refunded',
        'refund.succeeded',
      ],
    );
    const acked = () => r.state.arrivals.filter((a) => a.status === 204);
    await until(() => acked().length >= all.length, 20_000, 'every event acknowledged');
    await until(async () => {
      const d = (await s.admin('GET', '/admin/v1/webhooks/deliveries?status=delivered'))
        .json as unknown as Deliveries;
      return d.deliveries.length === all.length;
    });
    const ackedIds = acked().map((a) => a.headers['minipay-event-id']);
    assert.deepEqual(
      [...ackedIds].sort(),
      all.map((e) => e.id).sort(),
      'each event acknowledged exactly once',
    );
    for (const a of r.state.arrivals) {
      const check = verifyWebhookSignature(SECRET, a.headers['minipay-signature'], a.raw);
      assert.ok(check.ok, JSON.stringify(check));
      const event = JSON.parse(a.raw.toString('utf8')) as MinipayEvent;
      assert.equal(event.id, a.headers['minipay-event-id']);
      assert.equal(event.type, a.headers['minipay-event-type']);
      assert.ok(!a.raw.toString('utf8').includes(SECRET));
    }
    const paid = acked()
      .map((a) => JSON.parse(a.raw.toString('utf8')) as MinipayEvent<{ status: string }>)
      .find((e) => e.type === 'order.paid')!;
    assert.equal(paid.data.order?.status, 'PAID');
    assert.ok(
      !verifyWebhookSignature(
        'another-secret-000000',
        r.state.arrivals[0]!.headers['minipay-signature'],
        r.state.arrivals[0]!.raw,
      ).ok,
    );

    await until(() => subscribed.length >= all.length);
    assert.deepEqual(
      subscribed.map((e) => e.id),
      all.map((e) => e.id),
      'subscribers get every event, in order',
    );

    const delivered = (await s.admin('GET', '/admin/v1/webhooks/deliveries?status=delivered'))
      .json as unknown as Deliveries;
    const target = delivered.deliveries.find((d) => d.eventType === 'order.paid')!;
    const replay = await s.admin('POST', `/admin/v1/webhooks/deliveries/${target.id}/replay`);
    assert.equal(replay.status, 200, replay.text);
    assert.equal((replay.json as unknown as { delivery: Delivery }).delivery.status, 'pending');
    await until(
      () => acked().filter((a) => a.headers['minipay-event-id'] === target.eventId).length === 2,
    );
  });

  test('a receiver that never answers 2xx: retried with backoff, dead after the window, replay delivers', async (t) => {
    const r = await receiver(t);
    r.state.status = 500;
    const s = await startSandboxServer(t, await stores.freshUrl(), {
      config: { webhookUrls: [r.url], webhookSecrets: [SECRET] },
    });
    await s.paidOrder(1);
    const relay = await s.server.payments.outbox.relay();
    assert.equal(relay.changed, 3);
    assert.equal((await s.server.payments.outbox.relay()).examined, 0, 'dispatched once');
    const { webhooks } = s.server.payments;
    const list = async (q = '') =>
      ((await s.admin('GET', `/admin/v1/webhooks/deliveries${q}`)).json as unknown as Deliveries)
        .deliveries;
    let rounds = 0;
    while ((await list('?status=pending,failed')).length > 0) {
      await webhooks.deliver();
      s.clock.advance(2 * 3600_000 + 1);
      assert.ok(++rounds <= 40, 'gave up within the window');
    }
    const dead = await list('?status=dead');
    assert.equal(dead.length, 3);
    for (const d of dead) {
      assert.ok(d.attempts >= 2 && d.attempts <= 31, `attempts ${d.attempts}`);
      assert.equal(d.lastStatusCode, 500);
      assert.equal(d.lastError, 'answered HTTP 500');
      assert.equal(d.nextAttemptAt, null);
    }
    r.state.status = 200;
    const replayed = await s.admin('POST', `/admin/v1/webhooks/deliveries/${dead[0]!.id}/replay`);
    assert.equal((replayed.json as unknown as { delivery: Delivery }).delivery.attempts, 0);
    await webhooks.deliver();
    assert.equal((await list('?status=delivered')).length, 1);
    assert.equal((await list('?status=dead')).length, 2);
  });

  test('admin deliveries: bad input is a clear 4xx, the token is required, no secret in answers', async (t) => {
    const r = await receiver(t);
    const s = await startSandboxServer(t, await stores.freshUrl(), {
      config: { webhookUrls: [r.url], webhookSecrets: [SECRET] },
    });
    await s.paidOrder(1);
    await s.server.payments.outbox.relay();
    for (const q of ['?status=bogus', '?limit=0', '?limit=101', '?cursor=nope', '?extra=1']) {
      const res = await s.admin('GET', `/admin/v1/webhooks/deliveries${q}`);
      assert.equal(res.status, 400, q);
      assert.equal(res.json.error?.code, 'VALIDATION_FAILED', q);
    }
    const missing = await s.admin('POST', '/admin/v1/webhooks/deliveries/whd_nope/replay');
    assert.equal(missing.status, 404);
    for (const [method, path] of [
      ['GET', '/admin/v1/webhooks/deliveries'],
      ['POST', '/admin/v1/webhooks/deliveries/whd_x/replay'],
    ] as const) {
      assert.equal((await s.api(method, path)).status, 401);
      assert.equal((await s.api(method, path, { token: 'wrong-token-0123456789' })).status, 403);
    }
    const page1 = await s.admin('GET', '/admin/v1/webhooks/deliveries?limit=2');
    const body = page1.json as unknown as Deliveries;
    assert.equal(body.deliveries.length, 2);
    const page2 = (
      await s.admin('GET', `/admin/v1/webhooks/deliveries?limit=2&cursor=${body.nextCursor}`)
    ).json as unknown as Deliveries;
    assert.equal(page2.deliveries.length, 1);
    assert.equal(page2.nextCursor, null);
    for (const text of [page1.text, JSON.stringify(page2)]) {
      assert.ok(!text.includes(SECRET));
      assert.ok(!text.includes(ADMIN_TOKEN));
      assert.ok(!text.includes(s.sandbox.credentials.mchKey));
    }
  });
});

test('webhook configuration is validated with messages that say what to set', () => {
  const problems = (env: Record<string, string>) => {
    try {
      loadConfig(env);
      return [];
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      return err.problems;
    }
  };
  assert.match(
    problems({ MINIPAY_WEBHOOK_URLS: 'https://shop.example/wh' }).join('\n'),
    /MINIPAY_WEBHOOK_SECRET is not set/,
  );
  assert.match(
    problems({ MINIPAY_WEBHOOK_URLS: 'ftp://x', MINIPAY_WEBHOOK_SECRET: SECRET }).join('\n'),
    /not an http\(s\) URL/,
  );
  assert.match(
    problems({ MINIPAY_WEBHOOK_URL: 'https://a.example', MINIPAY_WEBHOOK_SECRET: 'short' }).join(
      '\n',
    ),
    /at least 16 characters/,
  );
  assert.match(
    problems({
      MINIPAY_WEBHOOK_URL: 'https://a.example',
      MINIPAY_WEBHOOK_URLS: 'https://b.example',
      MINIPAY_WEBHOOK_SECRET: SECRET,
    }).join('\n'),
    /not both/,
  );
  const ok = loadConfig({
    MINIPAY_WEBHOOK_URLS: 'https://a.example/wh, https://b.example/wh',
    MINIPAY_WEBHOOK_SECRET: `${SECRET},old-secret-0123456789`,
  });
  assert.deepEqual(ok.webhookUrls, ['https://a.example/wh', 'https://b.example/wh']);
  assert.deepEqual(ok.webhookSecrets, [SECRET, 'old-secret-0123456789']);
  assert.deepEqual(loadConfig({}).webhookUrls, []);
});

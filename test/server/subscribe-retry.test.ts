/**
 * Subscribe messages WeChat could not take for now are sent again (issue 17, follow-up), over
 * loopback with the sandbox playing WeChat, on SQLite and PostgreSQL: system busy and a
 * concurrency limit are retried until sent; a final refusal (43101, 47003, 40037) is recorded
 * after one attempt and never sent again; a message WeChat keeps refusing for now is given up
 * after the cap; the payment is PAID whatever happens; the admin API lists it all and refuses
 * hostile queries.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SubscribeMessageEntry } from '../../src/contract/index.js';
import { checkout, type Demo, eventually, startDemo, status } from '../support/demo.js';
import { describeOnStores } from '../support/stores.js';

const SEND = '/cgi-bin/message/subscribe/send';
const FAST = { retryBaseMs: 10, retryCapMs: 50, maxAttempts: 3 };
const PAID_TEMPLATE = 'sandbox-payment-success';

async function subscribedPayment(demo: Demo, subscribe = true) {
  const { token, openid } = await demo.login();
  if (subscribe) {
    await fetch(`${demo.sandbox.url}/sandbox/v1/subscriptions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ openid, templateIds: [PAID_TEMPLATE] }),
    });
  }
  const { order, payment } = await checkout(demo, token, 'prd_sample', 1);
  demo.sandbox.pay({ openid, ...payment });
  return { order, token, openid };
}

/** What WeChat (the sandbox) saw: one entry per send it acted on. */
async function wechatSaw(demo: Demo, openid: string): Promise<{ errcode: number }[]> {
  const res = await fetch(`${demo.sandbox.url}/sandbox/v1/subscribe-messages?openid=${openid}`);
  return ((await res.json()) as { messages: { errcode: number }[] }).messages;
}

async function messagesOf(demo: Demo, orderId: string): Promise<SubscribeMessageEntry[]> {
  const res = await demo.api('GET', `/admin/v1/orders/${orderId}/subscribe-messages`, {
    token: demo.launched.adminToken!,
  });
  assert.equal(res.status, 200, res.text);
  return (res.json as unknown as { messages: SubscribeMessageEntry[] }).messages;
}

async function settled(demo: Demo, orderId: string): Promise<SubscribeMessageEntry> {
  let entry: SubscribeMessageEntry | undefined;
  await eventually(async () => {
    entry = (await messagesOf(demo, orderId))[0];
    return entry !== undefined && entry.outcome !== 'pending';
  });
  return entry!;
}

describeOnStores('subscribe messages sent again', (stores) => {
  test('system busy and 43108 are retried until sent, once; the payment never waits', async (t) => {
    const demo = await startDemo(t, await stores.freshUrl(), { subscribeRetry: FAST });
    await demo.sandbox.setFaults({ platformErrcodes: { [SEND]: { '-1': 1, '43108': 1 } } });
    const { order, token, openid } = await subscribedPayment(demo);
    const entry = await settled(demo, order.id);
    assert.equal(entry.outcome, 'sent');
    assert.equal(entry.attempts, 3, 'busy, concurrent, then sent');
    assert.equal(entry.result, null);
    assert.equal(entry.nextAttemptAt, null);
    assert.deepEqual(
      (await wechatSaw(demo, openid)).map((m) => m.errcode),
      [0],
      'WeChat acted on one send',
    );
    assert.equal(await status(demo, token, order.id), 'PAID');
    const metrics = demo.launched.server.metrics;
    assert.equal(
      metrics.value('minipay_subscribe_messages_total', { kind: 'paid', outcome: 'retry' }),
      2,
    );
  });

  test('final refusals (43101, 47003) are recorded after one attempt, never sent again', async (t) => {
    const demo = await startDemo(t, await stores.freshUrl(), { subscribeRetry: FAST });
    const unsubscribed = await subscribedPayment(demo, false);
    const refused = await settled(demo, unsubscribed.order.id);
    assert.equal(refused.outcome, 'refused');
    assert.equal(refused.attempts, 1);
    assert.equal(refused.result?.code, '43101');

    await demo.sandbox.setFaults({ platformErrcodes: { [SEND]: { '47003': 1 } } });
    const badData = await subscribedPayment(demo);
    const bad = await settled(demo, badData.order.id);
    assert.deepEqual([bad.outcome, bad.attempts, bad.result?.code], ['refused', 1, '47003']);

    // Later runs of the job leave both alone.
    const messages = demo.launched.server.payments.subscribeMessages!;
    await messages.sendDue();
    assert.equal((await messagesOf(demo, unsubscribed.order.id))[0]?.attempts, 1);
    assert.equal((await messagesOf(demo, badData.order.id))[0]?.attempts, 1);
    assert.deepEqual(
      (await wechatSaw(demo, unsubscribed.openid)).map((m) => m.errcode),
      [43101],
    );
    assert.deepEqual(await wechatSaw(demo, badData.openid), [], 'the fault answered, no send');
    assert.equal(await status(demo, badData.token, badData.order.id), 'PAID');
  });

  test('a template WeChat does not have (40037) is refused once', async (t) => {
    const demo = await startDemo(t, await stores.freshUrl(), {
      subscribeRetry: FAST,
      env: {
        MINIPAY_SUBSCRIBE_PAID_TEMPLATE: 'no-such-template',
        MINIPAY_SUBSCRIBE_PAID_FIELDS: 'character_string1=outTradeNo',
      },
    });
    const { order } = await subscribedPayment(demo, false);
    const entry = await settled(demo, order.id);
    assert.deepEqual(
      [entry.outcome, entry.attempts, entry.result?.code, entry.templateId],
      ['refused', 1, '40037', 'no-such-template'],
    );
  });

  test('a message WeChat keeps refusing for now is given up after the cap', async (t) => {
    const demo = await startDemo(t, await stores.freshUrl(), { subscribeRetry: FAST });
    await demo.sandbox.setFaults({ platformErrcodes: { [SEND]: { '-1': 10 } } });
    const { order, openid } = await subscribedPayment(demo);
    const entry = await settled(demo, order.id);
    assert.equal(entry.outcome, 'failed');
    assert.equal(entry.attempts, FAST.maxAttempts);
    assert.equal(entry.result?.code, '-1');
    assert.match(entry.result?.message ?? '', /^gave up after 3 attempts: /);
    assert.deepEqual(await wechatSaw(demo, openid), []);
  });

  test('the admin list: by outcome, paged; hostile queries refused', async (t) => {
    const demo = await startDemo(t, await stores.freshUrl(), { subscribeRetry: FAST });
    const admin = { token: demo.launched.adminToken! };
    const sent = await subscribedPayment(demo);
    const refused = await subscribedPayment(demo, false);
    await settled(demo, sent.order.id);
    await settled(demo, refused.order.id);

    const all = await demo.api('GET', '/admin/v1/subscribe-messages?limit=1', admin);
    assert.equal(all.status, 200, all.text);
    const first = all.json as unknown as { messages: SubscribeMessageEntry[]; nextCursor: string };
    assert.equal(first.messages.length, 1);
    assert.equal(first.messages[0]?.orderId, refused.order.id, 'newest first');
    const next = await demo.api(
      'GET',
      `/admin/v1/subscribe-messages?limit=1&cursor=${first.nextCursor}`,
      admin,
    );
    const second = next.json as unknown as { messages: SubscribeMessageEntry[]; nextCursor: null };
    assert.deepEqual([second.messages[0]?.orderId, second.nextCursor], [sent.order.id, null]);
    const onlyRefused = await demo.api(
      'GET',
      '/admin/v1/subscribe-messages?outcome=refused',
      admin,
    );
    assert.deepEqual(
      (onlyRefused.json as unknown as { messages: SubscribeMessageEntry[] }).messages.map(
        (m) => m.orderId,
      ),
      [refused.order.id],
    );

    const hostile: [string, number][] = [
      ['/admin/v1/subscribe-messages?outcome=sending', 400],
      ['/admin/v1/subscribe-messages?limit=0', 400],
      ['/admin/v1/subscribe-messages?limit=abc', 400],
      ['/admin/v1/subscribe-messages?cursor=not-a-cursor', 400],
      ['/admin/v1/subscribe-messages?outcome=sent&admin=1', 400],
      [`/admin/v1/subscribe-messages?orderId=${'x'.repeat(65)}`, 400],
      ['/admin/v1/subscribe-messages?orderId=ord_nope', 404],
      ['/admin/v1/orders/ord_nope/subscribe-messages', 404],
      [`/admin/v1/orders/${sent.order.id}/subscribe-messages?outcome=sent`, 400],
    ];
    for (const [path, code] of hostile) {
      const res = await demo.api('GET', path, admin);
      assert.equal(res.status, code, `${path}: ${res.text}`);
      assert.equal(typeof res.json.error?.code, 'string', path);
    }
    const anonymous = await demo.api('GET', '/admin/v1/subscribe-messages');
    assert.equal(anonymous.status, 401);
  });
});

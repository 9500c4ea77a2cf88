import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { describe, test } from 'node:test';
import type { SandboxOptions } from '../../src/sandbox/index.js';
import { NOTIFY_MAX_ATTEMPTS, NOTIFY_RETRY_INTERVALS_MS } from '../../src/sandbox/index.js';
import {
  FAIL_REPLY,
  NotifyReceiver,
  paidTrade,
  payParams,
  prepay,
  sandboxFor,
  TEST_NOTIFY_FORMAT,
  until,
} from './support.js';

/** The whole 24h4m schedule in about 0.9 s. */
const FAST = 100_000;

async function setup(t: TestContext, options: SandboxOptions = {}) {
  const receiver = await NotifyReceiver.start(t);
  const sandbox = await sandboxFor(t, {
    notifyFormat: TEST_NOTIFY_FORMAT,
    timeScale: FAST,
    ...options,
  });
  return { receiver, sandbox };
}

function only<T>(list: T[]): T {
  assert.equal(list.length, 1);
  return list[0]!;
}

describe('notification delivery', () => {
  test('a payment is notified once when the merchant answers SUCCESS', async (t) => {
    const { receiver, sandbox } = await setup(t);
    const paid = await paidTrade(sandbox, receiver.url);
    await until(() => sandbox.notifications()[0]?.status === 'delivered');
    const n = only(sandbox.notifications());
    assert.equal(n.kind, 'payment');
    assert.equal(n.outTradeNo, paid.outTradeNo);
    assert.equal(n.url, receiver.url);
    assert.equal(n.attemptCount, 1);
    const a = only(n.attempts);
    assert.deepEqual([a.attempt, a.copy, a.outcome, a.httpStatus], [1, 1, 'success', 200]);
    assert.equal(only(receiver.received).body, n.body);
    assert.match(n.body, new RegExp(`<out_trade_no>${paid.outTradeNo}</out_trade_no>`));
  });

  test(`no SUCCESS: ${NOTIFY_MAX_ATTEMPTS} deliveries on WeChat's schedule divided by timeScale, then it gives up`, async (t) => {
    const { receiver, sandbox } = await setup(t);
    receiver.reply = () => ({ body: FAIL_REPLY });
    await paidTrade(sandbox, receiver.url);
    await until(() => sandbox.notifications()[0]?.status === 'failed', 20_000);
    const n = only(sandbox.notifications());
    assert.equal(n.attemptCount, 16);
    assert.equal(n.attempts.length, 16);
    assert.equal(receiver.received.length, 16);
    assert.equal(n.nextAttemptAt, null);
    assert.ok(n.attempts.every((a) => a.outcome === 'fail' && a.reply === FAIL_REPLY));
    const gaps = n.attempts.slice(1).map((a, i) => a.dueAtMs - n.attempts[i]!.dueAtMs);
    const expected = NOTIFY_RETRY_INTERVALS_MS.map((ms) => ms / FAST);
    for (const [i, gap] of gaps.entries()) {
      assert.ok(Math.abs(gap - expected[i]!) < 1e-3, `gap ${i}: ${gap} vs ${expected[i]}`);
    }
    const total = n.attempts.at(-1)!.dueAtMs - n.attempts[0]!.dueAtMs;
    assert.ok(
      Math.abs(total - ((24 * 3600 + 4 * 60) * 1000) / FAST) < 1e-3,
      'the last comes 24h4m after the first',
    );
  });

  test('the retries stop at the first SUCCESS', async (t) => {
    const { receiver, sandbox } = await setup(t);
    receiver.reply = (_r, n) => ({
      body: n < 4 ? FAIL_REPLY : '<xml><return_code><![CDATA[SUCCESS]]></return_code></xml>',
    });
    await paidTrade(sandbox, receiver.url);
    await until(() => sandbox.notifications()[0]?.status === 'delivered');
    const n = only(sandbox.notifications());
    assert.deepEqual(
      n.attempts.map((a) => a.outcome),
      ['fail', 'fail', 'fail', 'success'],
    );
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(receiver.received.length, 4, 'nothing after SUCCESS');
  });

  test('what counts as failure: non-2xx with SUCCESS XML, plain-text, garbage, no answer in time, no server', async (t) => {
    // 1.5 s, not less: on a loaded CI machine a healthy loopback answer can take a few hundred ms.
    const { receiver, sandbox } = await setup(t, { notifyTimeoutMs: 1500 });
    const replies = [
      { status: 500, body: '<xml><return_code>SUCCESS</return_code></xml>' },
      { status: 200, body: '' },
      { status: 200, body: '<!DOCTYPE x><xml><return_code>SUCCESS</return_code></xml>' },
      { hang: true },
    ];
    receiver.reply = (_r, n) =>
      replies[n - 1] ?? { status: 200, body: '<xml><return_code>SUCCESS</return_code></xml>' };
    await paidTrade(sandbox, receiver.url);
    await until(() => sandbox.notifications()[0]?.status === 'delivered');
    const outcomes = only(sandbox.notifications()).attempts.map((a) => [a.outcome, a.httpStatus]);
    assert.deepEqual(outcomes, [
      ['fail', 500],
      ['fail', 200],
      ['fail', 200],
      ['timeout', null],
      ['success', 200],
    ]);
    const timeout = only(sandbox.notifications()).attempts[3]!;
    assert.equal(timeout.error, 'no answer within 1500 ms');

    const down = `http://127.0.0.1:1/${'x'}`;
    const p = await paidTrade(sandbox, down);
    await until(
      () =>
        sandbox.notifications().find((n) => n.outTradeNo === p.outTradeNo)!.attempts.length >= 2,
    );
    const refused = sandbox.notifications().find((n) => n.outTradeNo === p.outTradeNo)!
      .attempts[0]!;
    assert.equal(refused.outcome, 'error');
    assert.match(refused.error ?? '', /ECONNREFUSED/);
  });

  test('a reply over 64 KiB is not read past the cap and counts as failure', async (t) => {
    const { receiver, sandbox } = await setup(t);
    receiver.reply = () => ({
      body: `<xml><return_code>SUCCESS</return_code></xml>${' '.repeat(1_000_000)}`,
    });
    await paidTrade(sandbox, receiver.url);
    await until(() => (sandbox.notifications()[0]?.attempts.length ?? 0) >= 1);
    const a = sandbox.notifications()[0]!.attempts[0]!;
    assert.equal(a.outcome, 'fail', 'a reply that was not read whole is not a SUCCESS reply');
    assert.equal(a.reply, null);
    assert.equal(a.error, 'the reply is larger than 65536 bytes');
  });

  test('advancing the clock brings the next attempt forward at once (timeScale 1)', async (t) => {
    const { receiver, sandbox } = await setup(t, { timeScale: 1 });
    receiver.reply = (_r, n) => ({
      body: n === 1 ? FAIL_REPLY : '<xml><return_code>SUCCESS</return_code></xml>',
    });
    await paidTrade(sandbox, receiver.url);
    await receiver.waitFor(1);
    await until(() => sandbox.notifications()[0]?.attemptCount === 1);
    assert.equal(sandbox.notifications()[0]!.status, 'pending');
    sandbox.advanceClock(15_000);
    await until(() => sandbox.notifications()[0]?.status === 'delivered');
    assert.equal(receiver.received.length, 2);
  });

  test('close() stops deliveries: nothing is sent afterwards', async (t) => {
    const { receiver, sandbox } = await setup(t, { timeScale: 1 });
    receiver.reply = () => ({ body: FAIL_REPLY });
    await paidTrade(sandbox, receiver.url);
    await receiver.waitFor(1);
    await sandbox.close();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(receiver.received.length, 1);
  });
});

describe('notification faults', () => {
  test('dropNotifyRate 1: every attempt is lost (logged as dropped), nothing arrives', async (t) => {
    const { receiver, sandbox } = await setup(t, { faults: { dropNotifyRate: 1 } });
    await paidTrade(sandbox, receiver.url);
    await until(() => sandbox.notifications()[0]?.status === 'failed', 20_000);
    const n = only(sandbox.notifications());
    assert.equal(n.attempts.length, 16);
    assert.ok(n.attempts.every((a) => a.outcome === 'dropped'));
    assert.equal(receiver.received.length, 0);
  });

  test('dropNotifyRate 0.5 with a seed: the same attempts are lost on every run', async (t) => {
    const run = async () => {
      const { receiver, sandbox } = await setup(t, { seed: 99, faults: { dropNotifyRate: 0.5 } });
      receiver.reply = () => ({ body: FAIL_REPLY });
      await paidTrade(sandbox, receiver.url);
      await until(() => sandbox.notifications()[0]?.status === 'failed', 20_000);
      const outcomes = sandbox.notifications()[0]!.attempts.map((a) => a.outcome);
      await sandbox.close();
      return outcomes;
    };
    const first = await run();
    assert.deepEqual(await run(), first);
    assert.ok(first.includes('dropped') && first.includes('fail'), first.join(','));
  });

  test('duplicateNotifyRate 1: two copies of each attempt, less than a second apart', async (t) => {
    const { receiver, sandbox } = await setup(t, { faults: { duplicateNotifyRate: 1 } });
    await paidTrade(sandbox, receiver.url);
    await receiver.waitFor(2);
    await until(() => sandbox.notifications()[0]?.status === 'delivered');
    const n = only(sandbox.notifications());
    assert.equal(n.attempts.length, 2);
    assert.deepEqual(
      n.attempts.map((a) => [a.attempt, a.copy, a.outcome]),
      [
        [1, 1, 'success'],
        [1, 2, 'success'],
      ],
    );
    assert.equal(receiver.received[0]!.body, receiver.received[1]!.body);
    const gap = Date.parse(n.attempts[1]!.at) - Date.parse(n.attempts[0]!.at);
    assert.ok(gap >= 0 && gap < 1000, `copies ${gap} ms apart`);
  });

  test('delayNotifyMs: the first attempt is planned that much after the payment', async (t) => {
    const { receiver, sandbox } = await setup(t, { faults: { delayNotifyMs: 300 } });
    await paidTrade(sandbox, receiver.url);
    await until(() => sandbox.notifications()[0]?.status === 'delivered');
    const n = only(sandbox.notifications());
    assert.equal(n.attempts[0]!.dueAtMs - Date.parse(n.createdAt), 300);
  });

  test('reorderNotifies: notifications of a burst arrive newest first', async (t) => {
    const { receiver, sandbox } = await setup(t, { faults: { reorderNotifies: true } });
    const trades = [];
    for (let i = 0; i < 3; i++) trades.push(await paidTrade(sandbox, receiver.url));
    await receiver.waitFor(3);
    const order = receiver.received.map((r) => /<out_trade_no>([^<]+)</.exec(r.body)![1]);
    assert.deepEqual(order, trades.map((x) => x.outTradeNo).reverse());
  });

  test('neverNotifyRate 1, or notify:false: paid, and the notification is never sent', async (t) => {
    const { receiver, sandbox } = await setup(t, { faults: { neverNotifyRate: 1 } });
    const paid = await paidTrade(sandbox, receiver.url);
    assert.equal(sandbox.trade(paid.outTradeNo)!.tradeState, 'SUCCESS');
    await sandbox.setFaults({ neverNotifyRate: 0 });
    const p = await prepay(sandbox, receiver.url);
    sandbox.pay({ ...payParams(sandbox, p.prepayId), openid: p.openid, notify: false });
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(
      sandbox.notifications().map((n) => [n.status, n.attempts.length]),
      [
        ['suppressed', 0],
        ['suppressed', 0],
      ],
    );
    assert.equal(receiver.received.length, 0);
  });
});

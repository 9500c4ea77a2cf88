import assert from 'node:assert/strict';
import { describe, type TestContext, test } from 'node:test';
import { inspect } from 'node:util';
import {
  AccessToken,
  beijingDay,
  MemoryTokenStore,
  MiniProgramApiError,
  TokenManager,
  type TokenManagerOptions,
} from '../../src/miniprogram-api/index.js';
import { FAKE_APP, FakeWechat, until } from './fake-wechat.js';

const API = '/wxa/sec/order/is_trade_managed';
/** Midday in Beijing, so that a few hours on stay the same Beijing day. */
const T0 = Date.parse('2024-06-01T04:00:00Z');

class Clock {
  t = T0;
  readonly now = () => this.t;
}

/** A store that counts its reads, to see a waiting instance poll. */
class CountingStore extends MemoryTokenStore {
  reads = 0;
  override async read() {
    this.reads++;
    return super.read();
  }
}

async function setup(t: TestContext, options: Partial<TokenManagerOptions> = {}) {
  const fake = await FakeWechat.start(t);
  const store = options.store ?? new CountingStore();
  const clock = new Clock();
  const manager = (holder: string, more: Partial<TokenManagerOptions> = {}) =>
    new TokenManager({
      ...FAKE_APP,
      baseUrl: fake.url,
      timeoutMs: 3000,
      now: clock.now,
      pollMs: 5,
      holder,
      ...options,
      ...more,
      store,
    });
  return { fake, store, clock, manager, m: manager('a') };
}

/** An API call through `withToken`, as the client makes it. */
async function callApi(m: TokenManager, fake: FakeWechat): Promise<string> {
  return m.withToken(async (token) => {
    const res = await fetch(`${fake.url}${API}?access_token=${token.value}`, {
      method: 'POST',
      body: '{}',
    });
    const json = (await res.json()) as { errcode?: number; errmsg?: string };
    if (json.errcode) {
      throw new MiniProgramApiError(
        json.errcode === 40001 ? 'token-invalid' : 'rejected',
        String(json.errcode),
        'x',
      );
    }
    return token.value;
  });
}

async function rejectsWith(
  p: Promise<unknown>,
  kind: string,
  code: string,
): Promise<MiniProgramApiError> {
  const err = await p.then(
    () => assert.fail('expected a rejection'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof MiniProgramApiError, String(err));
  assert.deepEqual([err.kind, err.code], [kind, code], err.message);
  return err;
}

describe('access_token: sharing and refreshing', () => {
  test('a token is fetched once, kept, and refreshed 4 minutes before it expires', async (t) => {
    const { fake, clock, m } = await setup(t);
    const first = await m.get();
    assert.equal(first.value, 'FAKE_TOKEN_1');
    assert.equal(first.expiresAt, T0 + 7200_000);
    assert.equal((await m.get()).value, 'FAKE_TOKEN_1');
    clock.t = T0 + 7200_000 - 240_001;
    await m.get();
    assert.deepEqual(fake.tokenCalls, [false]);
    clock.t = T0 + 7200_000 - 240_000;
    const next = await m.get();
    assert.deepEqual(fake.tokenCalls, [false, false]);
    assert.equal(next.expiresAt, clock.t + 7200_000);
  });

  test('concurrent calls in one process make one token call', async (t) => {
    const { fake, m } = await setup(t);
    const tokens = await Promise.all(Array.from({ length: 20 }, () => m.get()));
    assert.ok(tokens.every((x) => x.value === 'FAKE_TOKEN_1'));
    assert.deepEqual(fake.tokenCalls, [false]);
  });

  test('two instances over one store: one refreshes, the other waits and uses its token', async (t) => {
    const { fake, store, manager } = await setup(t);
    const a = manager('instance-a');
    const b = manager('instance-b');
    let release!: () => void;
    fake.pause = new Promise((r) => {
      release = r;
    });
    const pending = Promise.all([a.get(), b.get(), a.get(), b.get()]);
    await until(() => fake.tokenCalls.length === 1);
    const readsWhileHeld = (store as CountingStore).reads;
    await until(() => (store as CountingStore).reads > readsWhileHeld + 3); // the other one polls
    release();
    fake.pause = undefined;
    const tokens = await pending;
    assert.deepEqual(
      tokens.map((x) => x.value),
      Array(4).fill('FAKE_TOKEN_1'),
    );
    assert.deepEqual(fake.tokenCalls, [false]);
  });

  test('while another instance refreshes, a token that is still valid serves', async (t) => {
    const { fake, store, clock, m } = await setup(t);
    await store.write(new AccessToken('OLD_BUT_VALID', T0 + 60_000));
    assert.ok(await store.acquireLease('other-instance', 60_000, clock.t));
    assert.equal((await m.get()).value, 'OLD_BUT_VALID');
    assert.deepEqual(fake.tokenCalls, []);
  });

  test('a lease left by a crashed instance expires and another takes over', async (t) => {
    const { fake, store, manager } = await setup(t);
    const m = manager('survivor', { now: Date.now });
    assert.ok(await store.acquireLease('crashed', 150, Date.now()));
    assert.equal((await m.get()).value, 'FAKE_TOKEN_1');
    assert.deepEqual(fake.tokenCalls, [false]);
  });

  test('waiting longer than the lease for a token that never comes is a retryable error', async (t) => {
    const { fake, store, manager } = await setup(t);
    const m = manager('waiting', { now: Date.now, leaseTtlMs: 200 });
    assert.ok(await store.acquireLease('stuck', 60_000, Date.now()));
    await rejectsWith(m.get(), 'retryable', 'TOKEN_REFRESH_TIMEOUT');
    assert.deepEqual(fake.tokenCalls, []);
  });
});

describe('access_token: refused tokens', () => {
  test('40001 after someone forced a refresh elsewhere: a normal call gets the new token', async (t) => {
    const { fake, m } = await setup(t);
    assert.equal(await callApi(m, fake), 'FAKE_TOKEN_1');
    fake.rotate();
    assert.equal(await callApi(m, fake), 'FAKE_TOKEN_2');
    assert.deepEqual(fake.tokenCalls, [false, false]);
    assert.deepEqual(
      fake.to(API).map((r) => r.accessToken),
      ['FAKE_TOKEN_1', 'FAKE_TOKEN_1', 'FAKE_TOKEN_2'],
    );
  });

  test('40001 for the token WeChat still hands out: one forced refresh, the call retried once', async (t) => {
    const { fake, m } = await setup(t);
    let refused = 0;
    fake.routes.set(API, () =>
      refused++ === 0 ? { body: { errcode: 40001, errmsg: 'invalid credential' } } : {},
    );
    assert.equal(await callApi(m, fake), 'FAKE_TOKEN_2');
    assert.deepEqual(fake.tokenCalls, [false, false, true]);
    assert.equal(fake.to(API).length, 2);
  });

  test('a call refused again after the refresh is not retried a second time', async (t) => {
    const { fake, m } = await setup(t);
    fake.routes.set(API, () => ({ body: { errcode: 40001, errmsg: 'invalid credential' } }));
    await rejectsWith(callApi(m, fake), 'token-invalid', '40001');
    assert.equal(fake.to(API).length, 2);
  });

  test('forced refreshes: 30 s apart, the gap doubling, at most maxForcedPerDay', async (t) => {
    const { fake, clock, m } = await setup(t, { maxForcedPerDay: 3 });
    fake.routes.set(API, () => ({ body: { errcode: 40001, errmsg: 'invalid credential' } }));
    await rejectsWith(callApi(m, fake), 'token-invalid', '40001'); // forced #1 at T0
    assert.deepEqual(fake.tokenCalls, [false, false, true]);
    clock.t = T0 + 10_000;
    const early = await rejectsWith(callApi(m, fake), 'retryable', 'FORCED_REFRESH_BACKOFF');
    assert.equal(early.retryAfterMs, 20_000);
    clock.t = T0 + 30_000;
    await rejectsWith(callApi(m, fake), 'token-invalid', '40001'); // forced #2
    clock.t = T0 + 30_000 + 59_999;
    const second = await rejectsWith(callApi(m, fake), 'retryable', 'FORCED_REFRESH_BACKOFF');
    assert.equal(second.retryAfterMs, 1);
    clock.t = T0 + 90_000;
    await rejectsWith(callApi(m, fake), 'token-invalid', '40001'); // forced #3
    clock.t = T0 + 3 * 3600_000;
    const limit = await rejectsWith(callApi(m, fake), 'retryable', 'FORCED_REFRESH_LIMIT');
    assert.ok(limit.retryAfterMs! > 0 && limit.retryAfterMs! <= 86_400_000);
    assert.deepEqual(
      fake.tokenCalls.filter((forced) => forced),
      [true, true, true],
    );
  });

  test('the forced count is shared: another instance sees the limit reached', async (t) => {
    const { fake, manager } = await setup(t, { maxForcedPerDay: 1 });
    fake.routes.set(API, () => ({ body: { errcode: 40001, errmsg: 'invalid credential' } }));
    await rejectsWith(callApi(manager('a'), fake), 'token-invalid', '40001');
    await rejectsWith(callApi(manager('b'), fake), 'retryable', 'FORCED_REFRESH_LIMIT');
    assert.equal(fake.tokenCalls.filter((f) => f).length, 1);
  });

  test('normal-mode calls stop at maxNormalPerDay and resume the next Beijing day', async (t) => {
    const { fake, clock, m } = await setup(t, { maxNormalPerDay: 2 });
    await m.get();
    clock.t += 7200_000;
    await m.get();
    clock.t += 7200_000;
    await rejectsWith(m.get(), 'retryable', 'TOKEN_DAILY_LIMIT');
    assert.equal(fake.tokenCalls.length, 2);
    assert.notEqual(beijingDay(clock.t + 86_400_000), beijingDay(clock.t));
    clock.t += 86_400_000;
    await m.get();
    assert.equal(fake.tokenCalls.length, 3);
  });

  test('a wrong AppSecret (40001 at stable_token) is a config error, asked once', async (t) => {
    const { fake, manager } = await setup(t);
    const m = manager('a', { appSecret: 'wrong' });
    const err = await rejectsWith(m.get(), 'config', '40001');
    assert.match(err.message, /AppSecret/);
    assert.equal(fake.tokenCalls.length, 1);
  });

  test('token answers that are not tokens are refused', async (t) => {
    const { fake, m } = await setup(t);
    const bodies = [
      { access_token: 'has space', expires_in: 7200 },
      { access_token: 'x'.repeat(513), expires_in: 7200 },
      { access_token: 'FAKE', expires_in: '7200' },
      { access_token: 'FAKE', expires_in: 0 },
      { expires_in: 7200 },
    ];
    for (const body of bodies) {
      fake.routes.set('/cgi-bin/stable_token', () => ({ body }));
      await rejectsWith(m.get(), 'invalid', 'MALFORMED_RESPONSE');
    }
  });
});

describe('access_token: never shown', () => {
  test('JSON, inspect, string conversion and logs show [redacted]', async (t) => {
    const { m } = await setup(t);
    const token = await m.get();
    const shown = [
      JSON.stringify(token),
      JSON.stringify({ token }),
      inspect(token),
      inspect({ nested: { token } }, { depth: 5 }),
      String(token),
      `${token}`,
    ];
    for (const s of shown) {
      assert.ok(!s.includes('FAKE_TOKEN'), s);
      assert.match(s, /redacted/);
    }
    assert.equal(Object.keys(token).includes('value'), false);
    assert.equal(token.value, 'FAKE_TOKEN_1');
  });

  test('refreshes are reported without the token', async (t) => {
    const events: unknown[] = [];
    const { m } = await setup(t, { onRefresh: (e) => events.push(e) });
    await m.get();
    assert.deepEqual(events, [{ forced: false, expiresAt: T0 + 7200_000 }]);
  });

  test('options beyond what WeChat allows are refused', () => {
    const store = new MemoryTokenStore();
    assert.throws(
      () => new TokenManager({ ...FAKE_APP, store, refreshMarginMs: 300_000 }),
      RangeError,
    );
    assert.throws(() => new TokenManager({ ...FAKE_APP, store, maxForcedPerDay: 21 }), RangeError);
  });
});

/**
 * Sessions are bounded: a user keeps the newest `sessionsPerUser`, a job purges expired ones,
 * and `POST /api/v1/logout` ends one. On both stores.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { orderJobs } from '../../../src/app/jobs.js';
import type { RunningServer } from '../../../src/app/runtime.js';
import type { Payments } from '../../../src/payments/index.js';
import type { Store } from '../../../src/store/index.js';
import { MemoryGateway } from '../../support/memory-gateway.js';
import { buildPayments, TestClock } from '../../support/payments.js';
import { client, startTestServer } from '../../support/server.js';
import { describeOnStores } from '../../support/stores.js';

describeOnStores('sessions', (stores) => {
  let store: Store;
  let clock: TestClock;
  let payments: Payments;
  const sessions = async (userId?: string) => {
    let q = store.db.selectFrom('sessions').selectAll();
    if (userId) q = q.where('user_id', '=', userId);
    return (await q.execute()).length;
  };

  beforeEach(async () => {
    store = await stores.fresh();
    clock = new TestClock();
    payments = buildPayments(store, new MemoryGateway(), { clock });
  });

  test('a user keeps the newest 10 sessions; older tokens stop working; others keep theirs', async () => {
    const bob = await payments.login.login('code:bob');
    const tokens: string[] = [];
    for (let i = 0; i < 15; i++) {
      clock.advance(1000); // one login a second, so "newest" has one answer
      tokens.push((await payments.login.login('code:alice')).token);
    }
    const alice = (await payments.login.authenticate(tokens.at(-1)!))!;
    assert.equal(await sessions(alice.id), 10);
    for (const [i, token] of tokens.entries()) {
      const user = await payments.login.authenticate(token);
      assert.equal(user?.id ?? null, i < 5 ? null : alice.id, `login ${i}`);
    }
    assert.ok(await payments.login.authenticate(bob.token), "bob's session is his own");
    // Logins at the same time take turns (the user's row is locked): still 10 in the end.
    const burst = await Promise.all(
      Array.from({ length: 12 }, () => payments.login.login('code:alice')),
    );
    assert.equal(burst.length, 12);
    assert.equal(await sessions(alice.id), 10);
  });

  test('the purge job deletes expired sessions only', async () => {
    await payments.login.login('code:old-1');
    await payments.login.login('code:old-2');
    clock.advance(7 * 24 * 3600_000 + 1000);
    const fresh = await payments.login.login('code:new');
    const job = orderJobs(payments, 30_000).find((j) => j.name === 'minipay-purge-sessions');
    assert.ok(job, 'the job is scheduled with the order jobs');
    assert.equal(await job.run(), 2);
    assert.equal(await sessions(), 1);
    assert.ok(await payments.login.authenticate(fresh.token));
    assert.equal(await job.run(), 0);
  });

  describe('POST /api/v1/logout', () => {
    let server: RunningServer;
    let call: ReturnType<typeof client>;
    before(async () => {
      server = await startTestServer({
        databaseUrl: await stores.freshUrl(),
        gateway: new MemoryGateway(),
      });
      call = client(server.url);
    });
    after(() => server.close());

    test('ends this session only; after it the token is 401', async () => {
      const first = (await call('POST', '/api/v1/login', { body: { code: 'code:carol' } })).json;
      const second = (await call('POST', '/api/v1/login', { body: { code: 'code:carol' } })).json;
      const out = await call('POST', '/api/v1/logout', { token: first.token });
      assert.equal(out.status, 200, out.text);
      assert.deepEqual(out.json, { ok: true });
      assert.equal((await call('GET', '/api/v1/orders', { token: first.token })).status, 401);
      const again = await call('POST', '/api/v1/logout', { token: first.token });
      assert.equal(again.status, 401);
      assert.equal(again.json.error?.code, 'UNAUTHORIZED');
      assert.equal((await call('POST', '/api/v1/logout')).status, 401);
      assert.equal((await call('GET', '/api/v1/orders', { token: second.token })).status, 200);
      const rows = await server.store.db
        .selectFrom('sessions')
        .innerJoin('users', 'users.id', 'sessions.user_id')
        .where('users.openid', '=', 'carol')
        .selectAll()
        .execute();
      assert.equal(rows.length, 1);
    });
  });
});

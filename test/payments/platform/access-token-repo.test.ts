/**
 * The database TokenStore: the lease is atomic, the day's counts hold across instances, and
 * two instances (two connections to one database) share one access_token from the sandbox.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AccessToken, TokenManager } from '../../../src/miniprogram-api/index.js';
import { DbTokenStore } from '../../../src/payments/index.js';
import { startSandbox } from '../../../src/sandbox/index.js';
import { openStore } from '../../../src/store/index.js';
import { describeOnStores } from '../../support/stores.js';

const APP = 'wx5a5db0c000000001';

describeOnStores('DbTokenStore', (stores) => {
  test('one holder at a time; the lease frees on release or expiry', async () => {
    const store = await stores.fresh();
    const a = new DbTokenStore(store.db, APP);
    const b = new DbTokenStore(store.db, APP);
    const now = Date.parse('2026-01-01T00:00:00Z');
    const both = await Promise.all([
      a.acquireLease('a', 1000, now),
      b.acquireLease('b', 1000, now),
    ]);
    const holder = both[0] ? 'a' : 'b';
    assert.deepEqual([...both].sort(), [false, true], 'exactly one of two racing instances');
    const other = holder === 'a' ? 'b' : 'a';
    assert.equal(await a.acquireLease(holder, 1000, now + 10), true, 'the holder renews');
    assert.equal(await a.acquireLease(other, 1000, now + 500), false);
    assert.equal(await a.acquireLease(other, 1000, now + 1011), true, 'after expiry');
    await a.releaseLease(holder); // not the holder any more: nothing happens
    assert.equal(await a.acquireLease(holder, 1000, now + 1100), false);
    await a.releaseLease(other);
    assert.equal(await a.acquireLease(holder, 1000, now + 1100), true);
  });

  test('the token and the counts of the day; a new day counts from zero', async () => {
    const store = await stores.fresh();
    const s = new DbTokenStore(store.db, APP);
    assert.equal(await s.read(), undefined);
    await s.write(new AccessToken('token-1', 1_900_000_000_000));
    const read = await s.read();
    assert.ok(read?.sameAs(new AccessToken('token-1', 0)));
    assert.equal(read?.expiresAt, 1_900_000_000_000);
    await s.countCall('2026-01-01', false, 1);
    await s.countCall('2026-01-01', true, 2000);
    await s.countCall('2026-01-01', false, 3);
    assert.deepEqual(await s.quota('2026-01-01'), {
      day: '2026-01-01',
      normalCalls: 2,
      forcedCalls: 1,
      lastForcedAt: 2000,
    });
    await s.countCall('2026-01-02', false, 4);
    assert.deepEqual(await s.quota('2026-01-02'), {
      day: '2026-01-02',
      normalCalls: 1,
      forcedCalls: 0,
      lastForcedAt: 2000,
    });
    const raw = await store.db.selectFrom('miniprogram_tokens').selectAll().execute();
    assert.equal(raw.length, 1);
  });

  test('two instances on one database share one token: the sandbox issues it once', async (t) => {
    const sandbox = await startSandbox();
    t.after(() => sandbox.close());
    const url = await stores.freshUrl();
    const first = openStore(url);
    const second = openStore(url);
    t.after(async () => {
      await first.close();
      await second.close();
    });
    await first.migrate();
    const manager = (db: typeof first.db, holder: string) =>
      new TokenManager({
        appId: sandbox.credentials.appId,
        appSecret: sandbox.credentials.appSecret,
        baseUrl: sandbox.url,
        store: new DbTokenStore(db, sandbox.credentials.appId),
        holder,
        pollMs: 10,
      });
    const [x, y] = [manager(first.db, 'one'), manager(second.db, 'two')];
    const tokens = await Promise.all([x.get(), y.get(), x.get(), y.get()]);
    assert.ok(
      tokens.every((tk) => tk.sameAs(tokens[0])),
      'one token for all',
    );
    const stats = (await (await fetch(`${sandbox.url}/sandbox/v1/access-token`)).json()) as {
      issued: number;
    };
    assert.equal(stats.issued, 1);
  });
});

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { code2Session, type FailoverEvent, loginFailover } from '../../src/wechatpay/index.js';
import { rejectsWith, sandboxFor } from './support.js';

describe('code2Session against the sandbox', () => {
  test('a fresh code gives the openid; reused → 40163; unknown → 40029', async (t) => {
    const sandbox = await sandboxFor(t);
    const c = sandbox.credentials;
    const options = {
      baseUrl: sandbox.url,
      appId: c.appId,
      appSecret: c.appSecret,
      timeoutMs: 3000,
    };
    const { code, openid } = sandbox.loginCode();
    const session = await code2Session(options, code);
    assert.equal(session.openid, openid);
    assert.ok(session.sessionKey.length > 0);
    assert.equal(session.unionid, undefined);
    const reused = await rejectsWith(code2Session(options, code), 'rejected', '40163');
    assert.match(reused.message, /wx\.login\(\) again/);
    await rejectsWith(code2Session(options, 'nosuchcode'), 'rejected', '40029');
    await rejectsWith(code2Session(options, 'bad code!'), 'rejected', '40029');
    const wrongSecret = await rejectsWith(
      code2Session({ ...options, appSecret: 'wrongsecret00000' }, sandbox.loginCode().code),
      'config',
      '40125',
    );
    assert.deepEqual(wrongSecret.settings, ['appSecret']);
    await sandbox.setFaults({ systemErrorRate: { '/sns/jscode2session': 1 } });
    await rejectsWith(code2Session(options, sandbox.loginCode().code), 'ambiguous', '-1');
  });

  test('an expired code (5 minutes) → 40029', async (t) => {
    const sandbox = await sandboxFor(t);
    const c = sandbox.credentials;
    const { code } = sandbox.loginCode();
    sandbox.advanceClock(5 * 60_000 + 1);
    await rejectsWith(
      code2Session({ baseUrl: sandbox.url, appId: c.appId, appSecret: c.appSecret }, code),
      'rejected',
      '40029',
    );
  });

  for (const failure of ['http503', 'reset', 'hang'] as const) {
    test(`main domain ${failure}: the login goes through api2.weixin.qq.com, which then stays first`, async (t) => {
      const sandbox = await sandboxFor(t, { backupPort: 0, faults: { timeoutHoldMs: 5000 } });
      const c = sandbox.credentials;
      const events: FailoverEvent[] = [];
      const options = {
        baseUrl: sandbox.url,
        backupBaseUrl: sandbox.backupUrl,
        appId: c.appId,
        appSecret: c.appSecret,
        timeoutMs: failure === 'hang' ? 1000 : 10_000,
      };
      const failover = loginFailover(options, (e) => events.push(e));
      await sandbox.setFaults({ primaryApiDomainFailure: failure });
      const first = sandbox.loginCode();
      assert.equal((await code2Session({ ...options, failover }, first.code)).openid, first.openid);
      const reason = { http503: 'HTTP_503', reset: 'NETWORK', hang: 'TIMEOUT' }[failure];
      assert.deepEqual(events, [
        { path: '/sns/jscode2session', from: sandbox.url, to: sandbox.backupUrl, reason },
      ]);
      const second = sandbox.loginCode();
      assert.equal(
        (await code2Session({ ...options, failover }, second.code)).openid,
        second.openid,
      );
      assert.equal(events.length, 1, 'the backup was asked first: no second failover');
    });
  }

  test('without a backup a failing main domain is a retryable error', async (t) => {
    const sandbox = await sandboxFor(t, { backupPort: 0 });
    const c = sandbox.credentials;
    await sandbox.setFaults({ primaryApiDomainFailure: 'http503' });
    const options = { baseUrl: sandbox.url, appId: c.appId, appSecret: c.appSecret };
    await rejectsWith(code2Session(options, sandbox.loginCode().code), 'ambiguous', 'HTTP_503');
  });

  test("a code spent by a lost first exchange is retryable after the failover, not the user's fault", async (t) => {
    const sandbox = await sandboxFor(t, { backupPort: 0 });
    const c = sandbox.credentials;
    // The main domain: passes the call on to WeChat (the code is spent), then drops the answer.
    const lossy = createServer((req, res) => {
      void fetch(`${sandbox.url}${req.url}`).then(() => res.socket?.destroy());
    });
    await new Promise<void>((resolve) => lossy.listen(0, '127.0.0.1', resolve));
    t.after(() => lossy.close());
    const { port } = lossy.address() as AddressInfo;
    const options = {
      baseUrl: `http://127.0.0.1:${port}`,
      backupBaseUrl: sandbox.backupUrl,
      appId: c.appId,
      appSecret: c.appSecret,
    };
    const err = await rejectsWith(
      code2Session(options, sandbox.loginCode().code),
      'ambiguous',
      '40163',
    );
    assert.match(err.message, /new wx\.login code/);
  });
});

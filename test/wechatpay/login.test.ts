import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { code2Session } from '../../src/wechatpay/index.js';
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
});

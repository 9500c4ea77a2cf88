import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Sandbox } from '../../src/sandbox/index.js';
import { api, sandboxFor } from './support.js';

async function exchange(sandbox: Sandbox, query: Record<string, string>) {
  const res = await fetch(`${sandbox.url}/sns/jscode2session?${new URLSearchParams(query)}`);
  assert.equal(res.status, 200, 'WeChat answers 200 with errcode in the body');
  return (await res.json()) as Record<string, unknown>;
}

function query(sandbox: Sandbox, code: string) {
  return {
    appid: sandbox.credentials.appId,
    secret: sandbox.credentials.appSecret,
    js_code: code,
    grant_type: 'authorization_code',
  };
}

describe('login: wx.login codes and jscode2session', () => {
  test('a code from POST /sandbox/v1/login-code exchanges once for openid and session_key', async (t) => {
    const sandbox = await sandboxFor(t);
    const issued = await api<{ code: string; openid: string }>(
      sandbox,
      'POST',
      '/sandbox/v1/login-code',
      {},
    );
    assert.equal(issued.status, 200);
    assert.match(issued.body.openid, /^o[A-Za-z0-9_-]{27}$/);
    const answer = await exchange(sandbox, query(sandbox, issued.body.code));
    assert.deepEqual(Object.keys(answer).sort(), ['openid', 'session_key']);
    assert.equal(answer.openid, issued.body.openid);
    assert.equal(Buffer.from(String(answer.session_key), 'base64').length, 16);
    const again = await exchange(sandbox, query(sandbox, issued.body.code));
    assert.equal(again.errcode, 40163);
    assert.match(String(again.errmsg), /^code been used, hints: \[ req_id: .+ \]$/);
  });

  test('a chosen openid is kept: the same user logs in twice', async (t) => {
    const sandbox = await sandboxFor(t);
    const a = sandbox.loginCode('oSameUser');
    const b = sandbox.loginCode('oSameUser');
    assert.notEqual(a.code, b.code);
    assert.equal((await exchange(sandbox, query(sandbox, a.code))).openid, 'oSameUser');
    assert.equal((await exchange(sandbox, query(sandbox, b.code))).openid, 'oSameUser');
  });

  test('codes expire after 5 minutes → 40029; unknown codes → 40029', async (t) => {
    const sandbox = await sandboxFor(t);
    const fresh = sandbox.loginCode();
    const old = sandbox.loginCode();
    sandbox.advanceClock(4 * 60_000 + 59_000);
    assert.equal((await exchange(sandbox, query(sandbox, fresh.code))).openid, fresh.openid);
    sandbox.advanceClock(1000);
    assert.equal((await exchange(sandbox, query(sandbox, old.code))).errcode, 40029);
    assert.equal((await exchange(sandbox, query(sandbox, 'no-such-code'))).errcode, 40029);
  });

  test('wrong or missing appid, secret, code or grant_type: WeChat error codes, the code stays usable', async (t) => {
    const sandbox = await sandboxFor(t);
    const { code } = sandbox.loginCode();
    const good = query(sandbox, code);
    const cases: [Record<string, string>, number][] = [
      [{ ...good, appid: '' }, 41002],
      [{ ...good, appid: 'wx0000000000000bad' }, 40013],
      [{ ...good, secret: '' }, 41004],
      [{ ...good, secret: 'wrong-secret' }, 40125],
      [{ ...good, js_code: '' }, 41008],
      [{ ...good, grant_type: 'client_credential' }, 40002],
    ];
    for (const [q, errcode] of cases) {
      const answer = await exchange(sandbox, q);
      assert.equal(answer.errcode, errcode, JSON.stringify(q));
      assert.equal(JSON.stringify(answer).includes(sandbox.credentials.appSecret), false);
    }
    assert.equal((await exchange(sandbox, good)).openid !== undefined, true);
  });

  test('repeated query parameters are refused like missing ones', async (t) => {
    const sandbox = await sandboxFor(t);
    const { code } = sandbox.loginCode();
    const res = await fetch(
      `${sandbox.url}/sns/jscode2session?appid=${sandbox.credentials.appId}&appid=x&secret=${sandbox.credentials.appSecret}&js_code=${code}&grant_type=authorization_code`,
    );
    assert.equal(((await res.json()) as { errcode: number }).errcode, 41002);
  });

  test('POST /sandbox/v1/login-code refuses a bad openid and unknown fields', async (t) => {
    const sandbox = await sandboxFor(t);
    for (const body of [
      { openid: 'has space' },
      { openid: 'x'.repeat(129) },
      { openid: 5 },
      { other: 1 },
      [],
    ]) {
      const r = await api(sandbox, 'POST', '/sandbox/v1/login-code', body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal((r.body.error as { code: string }).code, 'VALIDATION_FAILED');
    }
  });

  test('100 concurrent exchanges of one code: exactly one succeeds', async (t) => {
    const sandbox = await sandboxFor(t);
    const { code } = sandbox.loginCode();
    const answers = await Promise.all(
      Array.from({ length: 100 }, () => exchange(sandbox, query(sandbox, code))),
    );
    assert.equal(answers.filter((a) => a.openid).length, 1);
    assert.equal(answers.filter((a) => a.errcode === 40163).length, 99);
  });
});

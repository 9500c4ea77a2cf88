import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MemoryTokenStore, TokenManager } from '../../src/miniprogram-api/index.js';
import type { Sandbox } from '../../src/sandbox/index.js';
import type { FailoverEvent } from '../../src/wechatpay/index.js';
import { api, postRaw, prepay, sandboxFor, v2 } from './support.js';

const NOTIFY = 'http://127.0.0.1:9/wechatpay/v2/notify';

/** The same sandbox seen through its backup domain's address. */
function backup(sandbox: Sandbox): Sandbox {
  return { ...sandbox, url: sandbox.backupUrl! };
}

describe('the backup domain (api2.mch.weixin.qq.com)', () => {
  test('backupPort serves the WeChat paths on a second address over the same state', async (t) => {
    const sandbox = await sandboxFor(t, { backupPort: 0 });
    assert.ok(sandbox.backupUrl);
    assert.notEqual(sandbox.backupUrl, sandbox.url);
    const p = await prepay(sandbox, NOTIFY);
    const q = await v2(backup(sandbox), '/pay/orderquery', { out_trade_no: p.outTradeNo });
    assert.equal(q.signed, true);
    assert.equal(q.fields.trade_state, 'NOTPAY');
  });

  test('without backupPort there is none', async (t) => {
    const sandbox = await sandboxFor(t);
    assert.equal(sandbox.backupUrl, undefined);
  });

  for (const failure of ['http503', 'reset', 'hang'] as const) {
    test(`primaryDomainFailure ${failure}: the main domain fails and acts on nothing; the backup serves`, async (t) => {
      const sandbox = await sandboxFor(t, { backupPort: 0, faults: { timeoutHoldMs: 50 } });
      const set = await api(sandbox, 'POST', '/sandbox/v1/faults', {
        primaryDomainFailure: failure,
      });
      assert.equal(set.status, 200, 'the sandbox API keeps working on the main address');
      const order = {
        body: 'x',
        out_trade_no: 'DOWNORDER01',
        total_fee: 1,
        spbill_create_ip: '127.0.0.1',
        notify_url: NOTIFY,
        trade_type: 'JSAPI',
        openid: sandbox.loginCode().openid,
      };
      if (failure === 'http503') {
        const r = await v2(sandbox, '/pay/unifiedorder', order);
        assert.equal(r.status, 503);
      } else {
        await assert.rejects(v2(sandbox, '/pay/unifiedorder', order), /fetch failed/);
      }
      assert.equal(sandbox.trade('DOWNORDER01'), undefined, 'nothing done');
      const r = await v2(backup(sandbox), '/pay/unifiedorder', order);
      assert.equal(r.fields.result_code, 'SUCCESS');
      assert.equal(sandbox.trade('DOWNORDER01')!.tradeState, 'NOTPAY');
      const login = await fetch(
        `${sandbox.url}/sns/jscode2session?appid=x&secret=y&js_code=z&grant_type=authorization_code`,
      );
      assert.equal(login.status, 200, 'api.weixin.qq.com is another domain: still up');
      await sandbox.setFaults({ primaryDomainFailure: 'none' });
      const again = await v2(sandbox, '/pay/orderquery', { out_trade_no: 'DOWNORDER01' });
      assert.equal(again.fields.trade_state, 'NOTPAY');
    });
  }

  test('a failing main domain answers the bill path the same way', async (t) => {
    const sandbox = await sandboxFor(t, {
      backupPort: 0,
      faults: { primaryDomainFailure: 'http503' },
    });
    const r = await postRaw(sandbox, '/pay/downloadbill', '<xml><a>1</a></xml>');
    assert.equal(r.status, 503);
  });

  test('primaryApiDomainFailure takes the api.weixin.qq.com paths down; api2 and WeChat Pay serve', async (t) => {
    const sandbox = await sandboxFor(t, { backupPort: 0 });
    await sandbox.setFaults({ primaryApiDomainFailure: 'http503' });
    const c = sandbox.credentials;
    const token = (base: string) =>
      fetch(`${base}/cgi-bin/stable_token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          grant_type: 'client_credential',
          appid: c.appId,
          secret: c.appSecret,
        }),
      });
    assert.equal((await token(sandbox.url)).status, 503);
    const login = `/sns/jscode2session?appid=${c.appId}&secret=${c.appSecret}&js_code=${sandbox.loginCode().code}&grant_type=authorization_code`;
    assert.equal((await fetch(`${sandbox.url}${login}`)).status, 503);
    assert.equal((await token(sandbox.backupUrl!)).status, 200);
    const paid = await prepay(sandbox, NOTIFY);
    assert.ok(paid.prepayId, 'api.mch.weixin.qq.com is another domain: still up');

    // The protocol layer's token manager fails over by itself.
    const events: FailoverEvent[] = [];
    const tokens = new TokenManager({
      appId: c.appId,
      appSecret: c.appSecret,
      baseUrl: sandbox.url,
      backupBaseUrl: sandbox.backupUrl,
      onFailover: (e) => events.push(e),
      store: new MemoryTokenStore(),
    });
    assert.ok((await tokens.get()).value.length > 0);
    assert.deepEqual(
      events.map((e) => [e.path, e.reason, e.to]),
      [['/cgi-bin/stable_token', 'HTTP_503', sandbox.backupUrl]],
    );
  });
});

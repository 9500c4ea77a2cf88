import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Agent, request } from 'undici';
import type { Sandbox } from '../../src/sandbox/index.js';
import { decodeXml } from '../../src/wechatpay/index.js';
import { hasOpenssl, makeCertificates } from '../support/certificates.js';
import { payParams, sandboxFor, signedV2Body } from './support.js';

async function post(
  sandbox: Sandbox,
  agent: Agent,
  path: string,
  fields: Record<string, string | number>,
) {
  const res = await request(`${sandbox.url}${path}`, {
    method: 'POST',
    body: signedV2Body(sandbox, fields),
    dispatcher: agent,
  });
  return decodeXml(await res.body.text());
}

describe('TLS mode with a client certificate for /secapi', {
  skip: !hasOpenssl && 'openssl is not installed',
}, () => {
  test('refunds need a client certificate signed by the configured CA; other paths do not', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'minipay-tls-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const certs = makeCertificates(dir);
    const sandbox = await sandboxFor(t, { tls: { ...certs.server, clientCa: certs.ca } });
    assert.match(sandbox.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const agents = {
      none: new Agent({ connect: { ca: certs.server.cert } }),
      merchant: new Agent({ connect: { ca: certs.server.cert, ...certs.client } }),
      intruder: new Agent({ connect: { ca: certs.server.cert, ...certs.other } }),
    };
    t.after(() => Promise.all(Object.values(agents).map((a) => a.close())));

    const order = await post(sandbox, agents.none, '/pay/unifiedorder', {
      body: 'tls',
      out_trade_no: 'TLSORDER01',
      total_fee: 100,
      spbill_create_ip: '127.0.0.1',
      notify_url: 'http://127.0.0.1:9/n',
      trade_type: 'JSAPI',
      openid: 'oTls',
    });
    assert.equal(order.result_code, 'SUCCESS', 'unifiedorder needs no client certificate');
    sandbox.pay({ ...payParams(sandbox, order.prepay_id!), openid: 'oTls' });
    const refund = {
      out_trade_no: 'TLSORDER01',
      out_refund_no: 'TLSR1',
      total_fee: 100,
      refund_fee: 100,
    };
    for (const who of ['none', 'intruder'] as const) {
      const r = await post(sandbox, agents[who], '/secapi/pay/refund', refund);
      assert.equal(r.return_code, 'FAIL', who);
      assert.match(r.return_msg ?? '', /^证书错误/);
    }
    assert.equal(sandbox.trade('TLSORDER01')!.refunds.length, 0);
    const ok = await post(sandbox, agents.merchant, '/secapi/pay/refund', refund);
    assert.equal(ok.result_code, 'SUCCESS');
    // Again on fresh connections (resumed TLS sessions): the merchant still gets through,
    // the certificate-less client still does not.
    for (let i = 0; i < 3; i++) {
      const fresh = new Agent({ connect: { ca: certs.server.cert, ...certs.client } });
      const bare = new Agent({ connect: { ca: certs.server.cert } });
      assert.equal(
        (await post(sandbox, fresh, '/secapi/pay/refund', refund)).result_code,
        'SUCCESS',
      );
      assert.equal((await post(sandbox, bare, '/secapi/pay/refund', refund)).return_code, 'FAIL');
      await Promise.all([fresh.close(), bare.close()]);
    }
  });
});

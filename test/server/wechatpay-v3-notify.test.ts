/**
 * POST /wechatpay/v3/notify and /refund-notify against hostile input, on the real server with
 * the v3 gateway: every refusal is a 4xx `{code: FAIL}` and leaves the PENDING order (or the
 * PROCESSING refund) as it was; the genuine notification pays it (settles it) once, and its
 * replay is acknowledged without a second change. The
 * notifications are signed with a WeChat Pay public key the test holds (the server verifies
 * with it, and with the sandbox's key for the sandbox's answers), so that each can be altered
 * and signed again: the tampering then reaches decryption, not only the signature check.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import { WechatPayV3Gateway } from '../../src/payments/gateway/wechatpay-v3-gateway.js';
import { startSandbox } from '../../src/sandbox/index.js';
import {
  type ApiV3Key,
  bothVerifier,
  buildNotification,
  createRsaSigner,
  formatRfc3339,
  generatePublicKeyIdentity,
  type Json,
  loadApiV3Key,
  type PublicKeyIdentity,
  probeSignature,
  publicKeyVerifier,
  signWechatpayHeaders,
} from '../../src/wechatpay/v3/index.js';
import { type SandboxServer, startSandboxServer } from '../support/sandbox-server.js';
import { describeOnStores } from '../support/stores.js';

interface Sent {
  body: string;
  headers: Record<string, string | string[]>;
}

async function post(s: SandboxServer, sent: Sent, path = '/wechatpay/v3/notify') {
  const res = await request(`${s.server.url}${path}`, {
    method: 'POST',
    body: sent.body,
    headers: sent.headers,
  });
  return { status: res.statusCode, text: await res.body.text() };
}

async function order(s: SandboxServer, id: string) {
  return s.server.store.db
    .selectFrom('orders')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
}

async function paidEvents(s: SandboxServer, id: string): Promise<number> {
  const rows = await s.server.store.db
    .selectFrom('order_events')
    .select('type')
    .where('order_id', '=', id)
    .where('type', '=', 'order.paid')
    .execute();
  return rows.length;
}

describeOnStores('POST /wechatpay/v3/notify: hostile input', (stores) => {
  test('missing or repeated headers, stale or future times, unknown serial, probes, altered ciphertext, tag or AAD, another key, not JSON, oversized, wrong amount or merchant: refused, nothing changes; the genuine one pays once, its replay changes nothing', async (t) => {
    const sandbox = await startSandbox({ timeScale: 1000, faults: { refundDelayMs: 86_400_000 } });
    t.after(() => sandbox.close());
    const ours = await generatePublicKeyIdentity();
    const stranger = await generatePublicKeyIdentity();
    const platform = sandbox.v3Platform();
    const c = sandbox.credentials;
    const apiV3Key = loadApiV3Key(c.apiV3Key);
    const demo = sandbox.demoMerchant!;
    const gateway = new WechatPayV3Gateway({
      appId: c.appId,
      mchId: c.mchId,
      signer: createRsaSigner({ privateKey: demo.privateKeyPem, serialNo: demo.serialNo }),
      verifier: bothVerifier(
        publicKeyVerifier({ keyId: ours.keyId, publicKey: ours.publicKeyPem }),
        publicKeyVerifier({ keyId: platform.publicKeyId, publicKey: platform.publicKeyPem }),
      ),
      apiV3Key,
      payBaseUrl: sandbox.url,
    });
    t.after(() => gateway.close());
    const s = await startSandboxServer(t, await stores.freshUrl(), {
      sandboxInstance: sandbox,
      gateway,
    });
    const p = await s.pendingOrder(1);
    // Paid at WeChat (so that it can be refunded there), its notification left to the test.
    sandbox.pay({ ...p.payment, openid: p.openid, notify: false });
    const resource: Json = {
      appid: c.appId,
      mchid: c.mchId,
      out_trade_no: p.order.outTradeNo,
      transaction_id: sandbox.trade(p.order.outTradeNo)!.transactionId,
      trade_type: 'JSAPI',
      trade_state: 'SUCCESS',
      trade_state_desc: '支付成功',
      bank_type: 'OTHERS',
      attach: '',
      success_time: formatRfc3339(new Date()),
      payer: { openid: p.openid },
      amount: {
        total: p.order.totalFen,
        payer_total: p.order.totalFen,
        currency: 'CNY',
        payer_currency: 'CNY',
      },
    };
    const now = Math.floor(Date.now() / 1000);
    const make = (
      o: {
        eventType?: string;
        originalType?: string;
        resource?: Json;
        key?: ApiV3Key;
        signer?: PublicKeyIdentity;
        timestamp?: number;
        alter?: (json: { resource: Record<string, string> }) => void;
      } = {},
    ): Sent => {
      const signer = (o.signer ?? ours).signer;
      const built = buildNotification(
        {
          eventType: o.eventType ?? 'TRANSACTION.SUCCESS',
          originalType: o.originalType ?? 'transaction',
          resource: o.resource ?? resource,
        },
        { apiV3Key: o.key ?? apiV3Key, signer, timestamp: String(o.timestamp ?? now) },
      );
      let body = built.body;
      if (o.alter) {
        const json = JSON.parse(body);
        o.alter(json);
        body = JSON.stringify(json);
      }
      const headers = signWechatpayHeaders(signer, body, { timestamp: String(o.timestamp ?? now) });
      return { body, headers: { ...headers, 'content-type': 'application/json' } };
    };
    const flip = (text: string, at: number) => {
      const bytes = Buffer.from(text, 'base64');
      const i = at < 0 ? bytes.length + at : at;
      bytes[i] = bytes[i]! ^ 1;
      return bytes.toString('base64');
    };
    const without = (name: string): Sent => {
      const sent = make();
      const { [name]: _, ...rest } = sent.headers;
      return { ...sent, headers: rest };
    };
    const cases: [string, Sent, number][] = [
      ['no Wechatpay-Timestamp', without('Wechatpay-Timestamp'), 400],
      ['no Wechatpay-Nonce', without('Wechatpay-Nonce'), 400],
      ['no Wechatpay-Signature', without('Wechatpay-Signature'), 400],
      ['no Wechatpay-Serial', without('Wechatpay-Serial'), 400],
      [
        'Wechatpay-Serial twice',
        (() => {
          const sent = make();
          const serial = sent.headers['Wechatpay-Serial'] as string;
          return { ...sent, headers: { ...sent.headers, 'Wechatpay-Serial': [serial, serial] } };
        })(),
        400,
      ],
      ['6 minutes old', make({ timestamp: now - 360 }), 400],
      ['6 minutes ahead', make({ timestamp: now + 360 }), 400],
      ['an unknown serial', make({ signer: stranger }), 400],
      [
        'a signature probe',
        (() => {
          const sent = make();
          return { ...sent, headers: { ...sent.headers, 'Wechatpay-Signature': probeSignature() } };
        })(),
        400,
      ],
      [
        'ciphertext altered (signed again)',
        make({
          alter: (j) => {
            j.resource.ciphertext = flip(j.resource.ciphertext!, 0);
          },
        }),
        400,
      ],
      [
        'tag altered (signed again)',
        make({
          alter: (j) => {
            j.resource.ciphertext = flip(j.resource.ciphertext!, -1);
          },
        }),
        400,
      ],
      [
        'associated_data altered (signed again)',
        make({
          alter: (j) => {
            j.resource.associated_data = 'certificate';
          },
        }),
        400,
      ],
      ['encrypted with another APIv3 key', make({ key: loadApiV3Key('k'.repeat(32)) }), 400],
      [
        'not JSON (signed)',
        (() => {
          const body = 'this is not json';
          return {
            body,
            headers: { ...signWechatpayHeaders(ours.signer, body), 'content-type': 'text/plain' },
          };
        })(),
        400,
      ],
      [
        'over 64 KiB',
        (() => {
          const body = JSON.stringify({ pad: 'x'.repeat(70 * 1024) });
          return { body, headers: { ...signWechatpayHeaders(ours.signer, body) } };
        })(),
        413,
      ],
      [
        'another amount',
        make({
          resource: { ...resource, amount: { total: p.order.totalFen + 1, currency: 'CNY' } },
        }),
        400,
      ],
      ['another merchant', make({ resource: { ...resource, mchid: '1234567890' } }), 400],
    ];
    for (const [name, sent, status] of cases) {
      const r = await post(s, sent);
      assert.equal(r.status, status, `${name}: ${r.text}`);
      assert.equal(JSON.parse(r.text).code, 'FAIL', name);
      assert.equal((await order(s, p.order.id)).status, 'PENDING', name);
    }
    assert.equal(await paidEvents(s, p.order.id), 0);

    const genuine = make();
    const first = await post(s, genuine);
    assert.equal(first.status, 204, first.text);
    assert.equal((await order(s, p.order.id)).status, 'PAID');
    const replay = await post(s, genuine);
    assert.equal(replay.status, 204, replay.text);
    assert.equal(await paidEvents(s, p.order.id), 1);

    // The refund callback: a PROCESSING refund, then notifications about it.
    const made = await s.admin('POST', `/admin/v1/orders/${p.order.id}/refunds`, {
      body: { amountFen: 100 },
      headers: { 'idempotency-key': `v3-hostile-${p.order.id}` },
    });
    assert.equal(made.status, 201, made.text);
    const refundRow = () =>
      s.server.store.db
        .selectFrom('refunds')
        .selectAll()
        .where('order_id', '=', p.order.id)
        .executeTakeFirstOrThrow();
    const row = await refundRow();
    assert.equal(row.status, 'PROCESSING');
    const refundResource: Json = {
      mchid: c.mchId,
      transaction_id: resource.transaction_id,
      out_trade_no: p.order.outTradeNo,
      refund_id: sandbox.refund(row.out_refund_no)!.refundId,
      out_refund_no: row.out_refund_no,
      refund_status: 'SUCCESS',
      success_time: formatRfc3339(new Date()),
      user_received_account: '支付用户零钱',
      amount: {
        total: p.order.totalFen,
        refund: 100,
        payer_total: p.order.totalFen,
        payer_refund: 100,
      },
    };
    const refundNotice = (o: Parameters<typeof make>[0] = {}) =>
      make({ eventType: 'REFUND.SUCCESS', originalType: 'refund', resource: refundResource, ...o });
    const refundCases: [string, Sent][] = [
      [
        'a probe',
        (() => {
          const sent = refundNotice();
          return { ...sent, headers: { ...sent.headers, 'Wechatpay-Signature': probeSignature() } };
        })(),
      ],
      [
        'ciphertext altered (signed again)',
        refundNotice({
          alter: (j) => {
            j.resource.ciphertext = flip(j.resource.ciphertext!, 3);
          },
        }),
      ],
      ['a payment event at the refund path', make()],
      ['another merchant', refundNotice({ resource: { ...refundResource, mchid: '1234567890' } })],
      ['6 minutes old', refundNotice({ timestamp: now - 360 })],
      ['an unknown serial', refundNotice({ signer: stranger })],
    ];
    for (const [name, sent] of refundCases) {
      const r = await post(s, sent, '/wechatpay/v3/refund-notify');
      assert.equal(r.status, 400, `${name}: ${r.text}`);
      assert.equal(JSON.parse(r.text).code, 'FAIL', name);
      assert.equal((await refundRow()).status, 'PROCESSING', name);
    }
    const settled = refundNotice();
    assert.equal((await post(s, settled, '/wechatpay/v3/refund-notify')).status, 204);
    assert.equal((await refundRow()).status, 'SUCCESS');
    assert.equal((await post(s, settled, '/wechatpay/v3/refund-notify')).status, 204);
    assert.equal((await refundRow()).status, 'SUCCESS');
  });
});

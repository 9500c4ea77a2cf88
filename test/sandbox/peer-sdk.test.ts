/**
 * A peer SDK, unmodified, against the sandbox's APIv3 paths: wechatpay-axios-plugin (a
 * devDependency, pinned by package-lock.json) signs its own requests, sends its own headers
 * (Accept, User-Agent) and verifies every answer with its own code, in public_key mode and in
 * certificate mode (the certificates downloaded from `/v3/certificates` and decrypted by the SDK,
 * then the download verified with them). JSAPI prepay, both queries, close, refund and its query.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, test } from 'node:test';
import type { Sandbox } from '../../src/sandbox/index.js';
import { sandboxFor } from './support.js';

const require = createRequire(import.meta.url);
// CommonJS, no types of its own for what is used here.
const peer = require('wechatpay-axios-plugin') as {
  Wechatpay: new (config: Record<string, unknown>) => PeerClient;
  Aes: { AesGcm: { decrypt(ciphertext: string, key: string, nonce: string, aad: string): string } };
  Rsa: { sign(message: string, privateKey: string): string };
  Formatter: { nonce(): string; timestamp(): number; joinedByLineFeed(...p: unknown[]): string };
};
const { version } = require('wechatpay-axios-plugin/package.json') as { version: string };

interface PeerAnswer {
  status: number;
  data: Record<string, unknown> & { data?: Record<string, unknown>[] };
}
type Call = (data?: unknown, config?: Record<string, unknown>) => Promise<PeerAnswer>;
/** The SDK's chain: `v3.pay.transactions.jsapi.post(...)`, any path, any verb. */
interface PeerChain {
  [segment: string]: PeerChain & { get: Call; post: Call };
}
interface PeerClient {
  v3: PeerChain;
  client: { v3: { defaults: { transformResponse: unknown[] } } };
}

function merchant(sandbox: Sandbox) {
  const demo = sandbox.demoMerchant!;
  return {
    mchid: sandbox.credentials.mchId,
    serial: demo.serialNo,
    privateKey: demo.privateKeyPem,
  };
}

function client(sandbox: Sandbox, certs: Record<string, unknown>): PeerClient {
  return new peer.Wechatpay({ baseURL: `${sandbox.url}/`, ...merchant(sandbox), certs });
}

/**
 * `/v3/certificates` as the SDK's own downloader does it (bin/cli/cert.js): decrypted by the
 * SDK in a response transform. In 0.9.6 that first answer fails the SDK's verification (its
 * verifier keeps a copy of `certs` made before the transform adds to it), so the certificates
 * it decrypted are then given to a new client, whose download of the list verifies with them.
 */
async function downloadCertificates(sandbox: Sandbox): Promise<Record<string, string>> {
  const found: Record<string, string> = {};
  const bootstrap = client(sandbox, { any: undefined });
  const decrypt = (body: string) => {
    for (const c of (JSON.parse(body) as { data: CertificateEntry[] }).data) {
      const e = c.encrypt_certificate;
      found[c.serial_no] = peer.Aes.AesGcm.decrypt(
        e.ciphertext,
        sandbox.credentials.apiV3Key,
        e.nonce,
        e.associated_data,
      );
    }
    return body;
  };
  await bootstrap.v3
    .certificates!.get({
      transformResponse: [decrypt, ...bootstrap.client.v3.defaults.transformResponse],
    })
    .catch(() => undefined);
  assert.ok(Object.keys(found).length > 0, 'the SDK decrypted no certificate');
  const verified = await client(sandbox, found).v3.certificates!.get();
  assert.equal(verified.status, 200);
  const listed = (verified.data.data ?? []).map((c) => c.serial_no);
  assert.deepEqual(listed.sort(), Object.keys(found).sort());
  return found;
}

interface CertificateEntry {
  serial_no: string;
  encrypt_certificate: { ciphertext: string; nonce: string; associated_data: string };
}

/** A JSAPI prepay by the SDK; its out_trade_no and prepay_id. */
async function prepay(sandbox: Sandbox, wx: PeerClient, openid: string) {
  const c = sandbox.credentials;
  const outTradeNo = `PEER${Date.now()}${Math.floor(Math.random() * 1e6)}`;
  const r = await wx.v3.pay!.transactions!.jsapi!.post({
    appid: c.appId,
    mchid: c.mchId,
    description: 'peer sdk',
    out_trade_no: outTradeNo,
    notify_url: 'https://merchant.example/wechatpay/v3/notify',
    amount: { total: 300, currency: 'CNY' },
    payer: { openid },
  });
  assert.equal(r.status, 200);
  assert.match(String(r.data.prepay_id), /^wx/);
  return { outTradeNo, prepayId: String(r.data.prepay_id) };
}

/** `wx.requestPayment` parameters signed with the SDK's own RSA, paid in the sandbox. */
function payInSandbox(sandbox: Sandbox, prepayId: string, openid: string): void {
  const appId = sandbox.credentials.appId;
  const timeStamp = String(peer.Formatter.timestamp());
  const nonceStr = peer.Formatter.nonce();
  const pkg = `prepay_id=${prepayId}`;
  const paySign = peer.Rsa.sign(
    peer.Formatter.joinedByLineFeed(appId, timeStamp, nonceStr, pkg),
    merchant(sandbox).privateKey,
  );
  sandbox.pay({
    appId,
    timeStamp,
    nonceStr,
    package: pkg,
    signType: 'RSA',
    paySign,
    openid,
    notify: false,
  });
}

for (const mode of ['public_key', 'certificate'] as const) {
  describe(`wechatpay-axios-plugin ${version} against the sandbox, ${mode} mode`, () => {
    test('prepay, pay, query by out_trade_no and by id, refund and its query, close', async (t) => {
      const sandbox = await sandboxFor(t, {
        v3: { platformMode: mode },
        closeMinAgeMs: 0,
        refundIntervalMs: 0,
      });
      const platform = sandbox.v3Platform();
      const certs =
        mode === 'public_key'
          ? { [platform.publicKeyId]: platform.publicKeyPem }
          : await downloadCertificates(sandbox);
      if (mode === 'certificate') {
        assert.deepEqual(
          certs,
          Object.fromEntries(platform.certificates.map((c) => [c.serialNo, c.pem])),
        );
      }
      const wx = client(sandbox, certs);
      const { mchId } = sandbox.credentials;
      const { openid } = sandbox.loginCode();

      const paid = await prepay(sandbox, wx, openid);
      payInSandbox(sandbox, paid.prepayId, openid);
      const byNo = await wx.v3.pay!.transactions!.outTradeNo!.$out_trade_no$!.get({
        params: { mchid: mchId },
        out_trade_no: paid.outTradeNo,
      });
      assert.equal(byNo.data.trade_state, 'SUCCESS');
      const transactionId = String(byNo.data.transaction_id);
      const byId = await wx.v3.pay!.transactions!.id!.$transaction_id$!.get({
        params: { mchid: mchId },
        transaction_id: transactionId,
      });
      assert.equal(byId.data.out_trade_no, paid.outTradeNo);
      assert.deepEqual(byId.data.amount, byNo.data.amount);

      const outRefundNo = `R${paid.outTradeNo}`;
      const refund = await wx.v3.refund!.domestic!.refunds!.post({
        out_trade_no: paid.outTradeNo,
        out_refund_no: outRefundNo,
        amount: { refund: 100, total: 300, currency: 'CNY' },
      });
      assert.equal(refund.status, 200);
      assert.equal(refund.data.status, 'PROCESSING');
      const refundQuery = await wx.v3.refund!.domestic!.refunds!.$out_refund_no$!.get({
        out_refund_no: outRefundNo,
      });
      assert.equal(refundQuery.data.refund_id, refund.data.refund_id);
      assert.equal(sandbox.refund(outRefundNo)?.refundFen, 100);

      const open = await prepay(sandbox, wx, openid);
      const closed = await wx.v3.pay!.transactions!.outTradeNo!.$out_trade_no$!.close!.post(
        { mchid: mchId },
        { out_trade_no: open.outTradeNo },
      );
      assert.equal(closed.status, 204);
      assert.equal(sandbox.trade(open.outTradeNo)?.tradeState, 'CLOSED');
    });

    test('answers the SDK must refuse are refused by it: bad signature, unknown serial, stale', async (t) => {
      const sandbox = await sandboxFor(t, { v3: { platformMode: mode } });
      const platform = sandbox.v3Platform();
      const certs =
        mode === 'public_key'
          ? { [platform.publicKeyId]: platform.publicKeyPem }
          : Object.fromEntries(platform.certificates.map((c) => [c.serialNo, c.pem]));
      const wx = client(sandbox, certs);
      const { openid } = sandbox.loginCode();
      const refusals = {
        BAD_SIGNATURE: 'EV3_RES_HEADER_SIGNATURE_DIGEST',
        UNKNOWN_SERIAL: 'EV3_RES_HEADER_PLATFORM_SERIAL',
        STALE_TIMESTAMP: 'EV3_RES_HEADER_TIMESTAMP_OFFSET',
      } as const;
      for (const [fault, code] of Object.entries(refusals)) {
        await sandbox.setFaults({
          answerSignatures: { '/v3/pay/transactions/jsapi': { [fault]: 1 } },
        });
        await assert.rejects(prepay(sandbox, wx, openid), { code }, fault);
      }
    });
  });
}

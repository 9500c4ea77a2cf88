/**
 * The merchant API client certificate from configuration (MINIPAY_MCH_CERT_FILE +
 * MINIPAY_MCH_KEY_FILE, or MINIPAY_MCH_P12_FILE): refused at start-up when incomplete, missing or
 * not matching; with it, refunds go over mutual TLS to a sandbox that demands it (as WeChat
 * does), and the fund-flow bill can be asked for; without it, refunds are refused there.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import pino from 'pino';
import { ConfigError, loadConfig } from '../../src/app/config.js';
import { v2Gateway } from '../../src/app/gateways.js';
import { GatewayError } from '../../src/payments/index.js';
import { startSandbox } from '../../src/sandbox/index.js';
import { Metrics } from '../../src/server/metrics.js';
import { hasOpenssl, makeCertificates } from '../support/certificates.js';

const LIVE = {
  MINIPAY_APPID: 'wx0123456789abcdef',
  MINIPAY_APPSECRET: 'appsecret0123456789abcdef',
  MINIPAY_MCHID: '1900000109',
  MINIPAY_MCH_KEY: 'k'.repeat(32),
  MINIPAY_NOTIFY_BASE_URL: 'https://pay.example.com',
};

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

function files(t: TestContext) {
  const dir = mkdtempSync(join(tmpdir(), 'minipay-mch-cert-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const certs = makeCertificates(dir);
  const write = (name: string, data: Buffer | string) => {
    const path = join(dir, name);
    writeFileSync(path, data);
    return path;
  };
  return {
    dir,
    certs,
    cert: write('apiclient_cert.pem', certs.client.cert),
    key: write('apiclient_key.pem', certs.client.key),
    otherKey: write('other_key.pem', certs.other.key),
    ca: write('server_ca.pem', certs.server.cert),
  };
}

describe('merchant API client certificate', {
  skip: !hasOpenssl && 'openssl is not installed',
}, () => {
  test('configuration: one complete form, files that exist, merchants only', (t) => {
    const f = files(t);
    assert.deepEqual(
      loadConfig({ ...LIVE, MINIPAY_MCH_CERT_FILE: f.cert, MINIPAY_MCH_KEY_FILE: f.key })
        .clientCertificate,
      { certFile: f.cert, keyFile: f.key },
    );
    assert.deepEqual(loadConfig({ ...LIVE, MINIPAY_MCH_P12_FILE: f.cert }).clientCertificate, {
      p12File: f.cert,
      p12Password: undefined,
    });
    assert.equal(loadConfig(LIVE).clientCertificate, undefined);
    const cases: [Record<string, string>, RegExp][] = [
      [
        { MINIPAY_MCH_CERT_FILE: f.cert },
        /MINIPAY_MCH_CERT_FILE and MINIPAY_MCH_KEY_FILE go together/,
      ],
      [{ MINIPAY_MCH_KEY_FILE: f.key }, /go together/],
      [
        {
          MINIPAY_MCH_CERT_FILE: f.cert,
          MINIPAY_MCH_KEY_FILE: f.key,
          MINIPAY_MCH_P12_FILE: f.cert,
        },
        /not both/,
      ],
      [
        { MINIPAY_MCH_P12_PASSWORD: 'x' },
        /MINIPAY_MCH_P12_PASSWORD is the password of MINIPAY_MCH_P12_FILE/,
      ],
      [
        { MINIPAY_MCH_CERT_FILE: join(f.dir, 'nope.pem'), MINIPAY_MCH_KEY_FILE: f.key },
        /MINIPAY_MCH_CERT_FILE: no file at .*nope\.pem/,
      ],
      [{ MINIPAY_MCH_P12_FILE: f.dir }, /MINIPAY_MCH_P12_FILE: no file at/],
      [{ MINIPAY_WECHATPAY_CA_FILE: join(f.dir, 'nope') }, /MINIPAY_WECHATPAY_CA_FILE: no file/],
    ];
    for (const [env, expected] of cases) {
      const found = problems({ ...LIVE, ...env });
      assert.ok(
        found.some((p) => expected.test(p)),
        `${JSON.stringify(env)}: ${found.join(' | ')}`,
      );
    }
    const demo = problems({ MINIPAY_MCH_CERT_FILE: f.cert, MINIPAY_MCH_KEY_FILE: f.key });
    assert.ok(
      demo.some((p) => /go with the merchant variables/.test(p)),
      demo.join(' | '),
    );
  });

  test('a key that does not match its certificate, or a wrong p12 password, stops start-up', (t) => {
    const f = files(t);
    const merchant = loadConfig(LIVE).merchant!;
    const build = (env: Record<string, string>) =>
      v2Gateway({
        config: loadConfig({ ...LIVE, ...env }),
        merchant,
        v3: undefined,
        logger: pino({ level: 'silent' }),
        metrics: new Metrics(),
      });
    assert.throws(
      () => build({ MINIPAY_MCH_CERT_FILE: f.cert, MINIPAY_MCH_KEY_FILE: f.otherKey }),
      /^Error: MINIPAY_MCH_CERT_FILE \/ MINIPAY_MCH_KEY_FILE: the merchant API certificate cannot be loaded: .*(mismatch|key)/i,
    );
    const p12 = join(f.dir, 'apiclient_cert.p12');
    const made = spawnSync('openssl', [
      'pkcs12',
      '-export',
      '-in',
      f.cert,
      '-inkey',
      f.key,
      '-out',
      p12,
      '-passout',
      'pass:secret',
    ]);
    assert.equal(made.status, 0, String(made.stderr));
    assert.throws(
      () => build({ MINIPAY_MCH_P12_FILE: p12 }),
      /^Error: MINIPAY_MCH_P12_FILE \/ MINIPAY_MCH_P12_PASSWORD: the merchant API certificate cannot be loaded/,
      "the default password is the merchant number, not this file's",
    );
    const gateway = build({ MINIPAY_MCH_P12_FILE: p12, MINIPAY_MCH_P12_PASSWORD: 'secret' });
    t.after(() => gateway.close());
    assert.equal(typeof gateway.openFundFlowBill, 'function');
  });

  test('refunds over mutual TLS to a sandbox that demands the certificate; refused without it', async (t) => {
    const f = files(t);
    const sandbox = await startSandbox({
      timeScale: 1000,
      tls: { ...f.certs.server, clientCa: f.certs.ca },
    });
    t.after(() => sandbox.close());
    const c = sandbox.credentials;
    const env = {
      ...LIVE,
      MINIPAY_APPID: c.appId,
      MINIPAY_APPSECRET: c.appSecret,
      MINIPAY_MCHID: c.mchId,
      MINIPAY_MCH_KEY: c.mchKey,
      MINIPAY_WECHATPAY_BASE_URL: sandbox.url,
      MINIPAY_WECHATPAY_BACKUP_BASE_URL: '',
      MINIPAY_WECHATPAY_CA_FILE: f.ca,
    };
    const gatewayFor = (extra: Record<string, string>) => {
      const config = loadConfig({ ...env, ...extra });
      const gateway = v2Gateway({
        config,
        merchant: config.merchant!,
        v3: undefined,
        logger: pino({ level: 'silent' }),
        metrics: new Metrics(),
      });
      t.after(() => gateway.close());
      return gateway;
    };
    const withCert = gatewayFor({ MINIPAY_MCH_CERT_FILE: f.cert, MINIPAY_MCH_KEY_FILE: f.key });
    const without = gatewayFor({});

    const outTradeNo = `MTLS${Date.now()}`;
    const prepay = await withCert.prepay({
      outTradeNo,
      description: 'mutual TLS',
      totalFen: 300,
      payerOpenid: sandbox.loginCode().openid,
      payerIp: '127.0.0.1',
      notifyUrl: 'http://127.0.0.1:9/n',
    });
    const params = withCert.paymentParams(prepay.prepayId);
    sandbox.pay({ ...params, openid: sandbox.trade(outTradeNo)!.openid, notify: false });

    const refund = { outTradeNo, totalFen: 300, refundFen: 100 };
    await assert.rejects(
      without.refund({ ...refund, outRefundNo: `${outTradeNo}R0` }),
      (e: unknown) => e instanceof GatewayError && e.kind === 'config',
      'no client certificate: refused before anything is sent',
    );
    const accepted = await withCert.refund({ ...refund, outRefundNo: `${outTradeNo}R1` });
    assert.equal(accepted.refundFen, 100);
    assert.equal(sandbox.refund(`${outTradeNo}R1`)?.refundFen, 100);
    assert.equal(without.openFundFlowBill, undefined);
  });
});

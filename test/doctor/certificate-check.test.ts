/** `minipay doctor`'s merchant API certificate line, offline, on throw-away certificates. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadConfig } from '../../src/app/config.js';
import { clientCertificateCheck } from '../../src/doctor/certificate-check.js';
import type { DoctorContext } from '../../src/doctor/index.js';
import { hasOpenssl, makeCertificates } from '../support/certificates.js';

const LIVE = {
  MINIPAY_APPID: 'wx0123456789abcdef',
  MINIPAY_APPSECRET: 'appsecret0123456789abcdef',
  MINIPAY_MCHID: '1900000109',
  MINIPAY_MCH_KEY: 'k'.repeat(32),
  MINIPAY_NOTIFY_BASE_URL: 'https://pay.example.com',
};

describe('doctor: the merchant API certificate', {
  skip: !hasOpenssl && 'openssl is not installed',
}, () => {
  test('it loads, its key matches, it is the merchant’s and has 30 days left; else what to do', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'minipay-doctor-cert-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const certs = makeCertificates(dir);
    const file = (name: string, data: Buffer) => {
      writeFileSync(join(dir, name), data);
      return join(dir, name);
    };
    const cert = file('apiclient_cert.pem', certs.client.cert);
    const key = file('apiclient_key.pem', certs.client.key);
    const otherKey = file('other_key.pem', certs.other.key);
    const expires = Date.parse(new X509Certificate(certs.client.cert).validTo);
    const check = async (env: Record<string, string>, at: number) => {
      const config = loadConfig({ ...LIVE, ...env });
      const context: DoctorContext = {
        config,
        merchant: config.merchant!,
        now: () => new Date(at),
        probeNotify: false,
      };
      assert.ok(clientCertificateCheck.applies!(context));
      return clientCertificateCheck.run(context);
    };
    const pem = { MINIPAY_MCH_CERT_FILE: cert, MINIPAY_MCH_KEY_FILE: key };
    const good = await check(pem, expires - 40 * 86_400_000);
    assert.deepEqual(good.ok, true, good.message);
    assert.match(good.message, /issued to 1900000109, its key matches, (39|40) days left/);
    const soon = await check(pem, Date.now());
    assert.equal(soon.ok, false);
    assert.match(soon.message, /expires in [01] days .*renew it/);
    const expired = await check(pem, expires + 86_400_000);
    assert.match(expired.message, /expired on .*download a new one/);
    const mismatched = await check(
      { ...pem, MINIPAY_MCH_KEY_FILE: otherKey },
      expires - 40 * 86_400_000,
    );
    assert.match(
      mismatched.message,
      /MINIPAY_MCH_KEY_FILE is not the key of MINIPAY_MCH_CERT_FILE/,
    );
    const another = await check({ ...pem, MINIPAY_MCHID: '1900000110' }, expires - 40 * 86_400_000);
    assert.match(another.message, /not issued to merchant 1900000110/);

    const p12 = join(dir, 'apiclient_cert.p12');
    const made = spawnSync('openssl', [
      'pkcs12',
      '-export',
      '-in',
      cert,
      '-inkey',
      key,
      '-out',
      p12,
      '-passout',
      'pass:1900000109',
    ]);
    assert.equal(made.status, 0, String(made.stderr));
    assert.equal(
      (await check({ MINIPAY_MCH_P12_FILE: p12 }, Date.now())).ok,
      true,
      'the merchant number is its password',
    );
    const wrong = await check(
      { MINIPAY_MCH_P12_FILE: p12, MINIPAY_MCH_P12_PASSWORD: 'nope' },
      Date.now(),
    );
    assert.equal(wrong.ok, false);
    assert.match(wrong.message, /does not load/);

    const none = loadConfig(LIVE);
    assert.equal(
      clientCertificateCheck.applies!({
        config: none,
        merchant: none.merchant!,
        now: () => new Date(),
        probeNotify: false,
      }),
      false,
      'no certificate configured: no line',
    );
  });
});

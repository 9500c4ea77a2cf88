/**
 * `minipay doctor` on APIv3 against the sandbox, in both verification modes: good keys pass
 * (and the APIv2 lines are not printed without an APIv2 key); a private key that is not the
 * serial's, a wrong APIv3 key, a wrong WeChat Pay public key and certificate mode for a merchant
 * without certificates each fail their line, naming what to set.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/app/config.js';
import { doctor } from '../../src/cli/commands/doctor.js';
import { type Sandbox, startSandbox } from '../../src/sandbox/index.js';
import {
  generateMerchantIdentity,
  generatePublicKeyIdentity,
} from '../../src/wechatpay/v3/index.js';

describe('minipay doctor on APIv3 against the sandbox', () => {
  const dir = mkdtempSync(join(tmpdir(), 'minipay-doctor-v3-'));
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  let publicKeyMode: Sandbox;
  let certificateMode: Sandbox;
  before(async () => {
    [publicKeyMode, certificateMode] = await Promise.all([
      startSandbox(),
      startSandbox({ v3: { platformMode: 'certificate' } }),
    ]);
  });
  after(async () => {
    await Promise.all([publicKeyMode.close(), certificateMode.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  function env(sandbox: Sandbox, withPublicKey: boolean, changes: Record<string, string> = {}) {
    const c = sandbox.credentials;
    const demo = sandbox.demoMerchant!;
    const platform = sandbox.v3Platform();
    return {
      MINIPAY_APPID: c.appId,
      MINIPAY_APPSECRET: c.appSecret,
      MINIPAY_MCHID: c.mchId,
      MINIPAY_WECHATPAY_API: 'v3',
      MINIPAY_MCH_PRIVATE_KEY_FILE: file(`key-${demo.serialNo}.pem`, demo.privateKeyPem),
      MINIPAY_MCH_CERT_SERIAL: demo.serialNo,
      MINIPAY_API_V3_KEY: c.apiV3Key,
      ...(withPublicKey
        ? {
            MINIPAY_WECHATPAY_PUBLIC_KEY_FILE: file('pub.pem', platform.publicKeyPem),
            MINIPAY_WECHATPAY_PUBLIC_KEY_ID: platform.publicKeyId,
          }
        : {}),
      MINIPAY_NOTIFY_BASE_URL: 'https://pay.example.com',
      MINIPAY_WECHATPAY_BASE_URL: sandbox.url,
      MINIPAY_WECHAT_API_BASE_URL: sandbox.url,
      MINIPAY_DATABASE_URL: `sqlite:${join(dir, 'doctor.sqlite')}`,
      ...changes,
    };
  }

  async function v3Line(values: Record<string, string>) {
    const lines: string[] = [];
    const code = await doctor(loadConfig(values), { say: (l) => lines.push(l) });
    const name = 'WeChat Pay APIv3 credentials';
    const found = lines.find((l) => l.slice(2).startsWith(`${name}: `)) ?? '';
    // "✓ name: finding" → "✓ finding"
    return { code, lines, line: found.slice(0, 2) + found.slice(name.length + 4) };
  }

  test('good keys pass in public key mode and in certificate mode; no APIv2 line', async () => {
    const pk = await v3Line(env(publicKeyMode, true));
    assert.match(pk.line, /^✓ .*verified with the public key PUB_KEY_ID_/, pk.lines.join('\n'));
    assert.ok(!pk.lines.some((l) => l.includes('APIv2 key')));
    assert.ok(!pk.lines.some((l) => l.slice(2).startsWith('WeChat Pay credentials:')));
    const cert = await v3Line(env(certificateMode, false));
    assert.match(cert.line, /^✓ .*1 platform certificate\(s\) decrypted with the APIv3 key/);
  });

  test('each wrong piece fails its line, naming what to set', async () => {
    const other = await generateMerchantIdentity(publicKeyMode.credentials.mchId);
    const stranger = await generatePublicKeyIdentity();
    const wrongKey = { MINIPAY_MCH_PRIVATE_KEY_FILE: file('other.pem', other.privateKeyPem) };
    const cases: [string, Record<string, string>, RegExp][] = [
      [
        'a key that is not the serial’s',
        env(publicKeyMode, true, wrongKey),
        /^✗ WeChat refused the request signature: MINIPAY_MCH_PRIVATE_KEY_FILE/,
      ],
      [
        'a wrong APIv3 key',
        env(certificateMode, false, { MINIPAY_API_V3_KEY: 'x'.repeat(32) }),
        /^✗ .*MINIPAY_API_V3_KEY is not this merchant’s APIv3 key/,
      ],
      [
        'a wrong WeChat Pay public key',
        env(publicKeyMode, true, {
          MINIPAY_WECHATPAY_PUBLIC_KEY_FILE: file('stranger.pem', stranger.publicKeyPem),
        }),
        /^✗ .*does not verify with the configured public key/,
      ],
      [
        'certificate mode for a public-key merchant',
        env(publicKeyMode, false),
        /^✗ .*无可用的平台证书.*MINIPAY_WECHATPAY_PUBLIC_KEY_FILE/,
      ],
    ];
    for (const [name, values, message] of cases) {
      const { code, line, lines } = await v3Line(values);
      assert.equal(code, 1, name);
      assert.match(line, message, `${name}: ${lines.join('\n')}`);
    }
  });
});

/** MINIPAY_WECHATPAY_API=v3: every wrong or missing piece is named at start-up. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/app/config.js';
import {
  generateMerchantIdentity,
  generatePublicKeyIdentity,
  type MerchantIdentity,
  type PublicKeyIdentity,
} from '../../src/wechatpay/v3/index.js';

const BASE = {
  MINIPAY_APPID: 'wx0123456789abcdef',
  MINIPAY_APPSECRET: 'appsecret0123456789abcdef',
  MINIPAY_MCHID: '1900000109',
  MINIPAY_NOTIFY_BASE_URL: 'https://pay.example.com',
  MINIPAY_WECHATPAY_API: 'v3',
};

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('APIv3 configuration', () => {
  let dir: string;
  let merchant: MerchantIdentity;
  let other: MerchantIdentity;
  let wechat: PublicKeyIdentity;
  let next: PublicKeyIdentity;
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  let v3: Record<string, string>;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'minipay-v3-config-'));
    [merchant, other, wechat, next] = await Promise.all([
      generateMerchantIdentity('1900000109'),
      generateMerchantIdentity('1900000109'),
      generatePublicKeyIdentity(),
      generatePublicKeyIdentity(),
    ]);
    v3 = {
      ...BASE,
      MINIPAY_MCH_PRIVATE_KEY_FILE: file('apiclient_key.pem', merchant.privateKeyPem),
      MINIPAY_MCH_CERT_FILE: file('apiclient_cert.pem', merchant.certificatePem),
      MINIPAY_MCH_CERT_SERIAL: merchant.serialNo,
      MINIPAY_API_V3_KEY: 'a'.repeat(32),
      MINIPAY_WECHATPAY_PUBLIC_KEY_FILE: file('pub_key.pem', wechat.publicKeyPem),
      MINIPAY_WECHATPAY_PUBLIC_KEY_ID: wechat.keyId,
    };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('complete: live, v3, public key mode; the APIv2 key is optional', () => {
    assert.deepEqual(problems(v3), []);
    const config = loadConfig(v3);
    assert.equal(config.mode, 'live');
    assert.equal(config.wechatpayApi, 'v3');
    assert.equal(config.merchant?.mchKey, undefined);
    assert.equal(config.wechatpayV3?.publicKey?.id, wechat.keyId);
    const both = loadConfig({ ...v3, MINIPAY_MCH_KEY: 'k'.repeat(32) });
    assert.equal(both.merchant?.mchKey, 'k'.repeat(32));
  });

  test('with the next public key and its id: both verify, each by its id', () => {
    const config = loadConfig({
      ...v3,
      MINIPAY_WECHATPAY_PUBLIC_KEY_NEXT_FILE: file('next.pem', next.publicKeyPem),
      MINIPAY_WECHATPAY_PUBLIC_KEY_NEXT_ID: next.keyId,
    });
    assert.equal(config.wechatpayV3?.publicKey?.id, wechat.keyId);
    assert.equal(config.wechatpayV3?.nextPublicKey?.id, next.keyId);
    assert.equal(loadConfig(v3).wechatpayV3?.nextPublicKey, undefined);
  });

  test('without the public key and its id: platform certificate mode', () => {
    const {
      MINIPAY_WECHATPAY_PUBLIC_KEY_FILE: _f,
      MINIPAY_WECHATPAY_PUBLIC_KEY_ID: _i,
      ...certificates
    } = v3;
    assert.deepEqual(problems(certificates), []);
    assert.equal(loadConfig(certificates).wechatpayV3?.publicKey, undefined);
  });

  test('each wrong piece is named', () => {
    const cases: [string, Record<string, string | undefined>, RegExp][] = [
      [
        'no private key',
        { MINIPAY_MCH_PRIVATE_KEY_FILE: undefined },
        /MINIPAY_MCH_PRIVATE_KEY_FILE is not set/,
      ],
      ['no serial', { MINIPAY_MCH_CERT_SERIAL: undefined }, /MINIPAY_MCH_CERT_SERIAL is not set/],
      ['no APIv3 key', { MINIPAY_API_V3_KEY: undefined }, /MINIPAY_API_V3_KEY is not set/],
      [
        'a 31-byte APIv3 key',
        { MINIPAY_API_V3_KEY: 'a'.repeat(31) },
        /MINIPAY_API_V3_KEY: the APIv3 key is 31 bytes/,
      ],
      [
        'the certificate where the key belongs',
        { MINIPAY_MCH_PRIVATE_KEY_FILE: file('cert-as-key.pem', merchant.certificatePem) },
        /MINIPAY_MCH_PRIVATE_KEY_FILE: .*is a certificate/,
      ],
      [
        'a key that is not the certificate’s',
        { MINIPAY_MCH_PRIVATE_KEY_FILE: file('other-key.pem', other.privateKeyPem) },
        /MINIPAY_MCH_CERT_FILE: the merchant private key does not belong to the merchant certificate/,
      ],
      [
        'a serial that is not the certificate’s',
        { MINIPAY_MCH_CERT_SERIAL: other.serialNo },
        /MINIPAY_MCH_CERT_FILE: the merchant certificate serial is/,
      ],
      [
        'a serial that is not hex',
        { MINIPAY_MCH_CERT_SERIAL: 'not-a-serial' },
        /MINIPAY_MCH_CERT_SERIAL: .*must be a certificate serial/,
      ],
      [
        'a key file that is not there',
        { MINIPAY_MCH_PRIVATE_KEY_FILE: join(dir, 'none.pem') },
        /MINIPAY_MCH_PRIVATE_KEY_FILE: cannot read .*ENOENT/,
      ],
      [
        'the public key without its id',
        { MINIPAY_WECHATPAY_PUBLIC_KEY_ID: undefined },
        /go together/,
      ],
      [
        'a public key id that is not PUB_KEY_ID_',
        { MINIPAY_WECHATPAY_PUBLIC_KEY_ID: 'KEY123' },
        /PUB_KEY_ID_/,
      ],
      [
        'a private key where WeChat’s public key belongs',
        { MINIPAY_WECHATPAY_PUBLIC_KEY_FILE: file('priv-as-pub.pem', merchant.privateKeyPem) },
        /MINIPAY_WECHATPAY_PUBLIC_KEY_ID: .*is a private key/,
      ],
      [
        'the next public key without its id',
        { MINIPAY_WECHATPAY_PUBLIC_KEY_NEXT_FILE: v3.MINIPAY_WECHATPAY_PUBLIC_KEY_FILE },
        /MINIPAY_WECHATPAY_PUBLIC_KEY_NEXT_FILE is set without MINIPAY_WECHATPAY_PUBLIC_KEY_NEXT_ID/,
      ],
      [
        'the next public key with the id in use',
        {
          MINIPAY_WECHATPAY_PUBLIC_KEY_NEXT_FILE: v3.MINIPAY_WECHATPAY_PUBLIC_KEY_FILE,
          MINIPAY_WECHATPAY_PUBLIC_KEY_NEXT_ID: v3.MINIPAY_WECHATPAY_PUBLIC_KEY_ID,
        },
        /_NEXT_ID is the id in use/,
      ],
      [
        'a next public key without the current one',
        {
          MINIPAY_WECHATPAY_PUBLIC_KEY_FILE: undefined,
          MINIPAY_WECHATPAY_PUBLIC_KEY_ID: undefined,
          MINIPAY_WECHATPAY_PUBLIC_KEY_NEXT_FILE: v3.MINIPAY_WECHATPAY_PUBLIC_KEY_FILE,
          MINIPAY_WECHATPAY_PUBLIC_KEY_NEXT_ID: 'PUB_KEY_ID_0000000000000000000000000000000000',
        },
        /_NEXT_FILE and _NEXT_ID need MINIPAY_WECHATPAY_PUBLIC_KEY_FILE/,
      ],
      ['an unknown API', { MINIPAY_WECHATPAY_API: 'v4' }, /MINIPAY_WECHATPAY_API must be v2 or v3/],
      [
        'v3 pieces while the API is v2',
        { MINIPAY_WECHATPAY_API: 'v2', MINIPAY_MCH_KEY: 'k'.repeat(32) },
        /APIv3 credentials are set but MINIPAY_WECHATPAY_API is not v3/,
      ],
      [
        'v2 without its key',
        {
          MINIPAY_WECHATPAY_API: 'v2',
          MINIPAY_API_V3_KEY: undefined,
          MINIPAY_MCH_PRIVATE_KEY_FILE: undefined,
          MINIPAY_MCH_CERT_SERIAL: undefined,
          MINIPAY_MCH_CERT_FILE: undefined,
        },
        /MINIPAY_MCH_KEY is not set/,
      ],
    ];
    for (const [name, change, message] of cases) {
      const env = { ...v3, ...change };
      for (const [k, v] of Object.entries(change)) if (v === undefined) delete env[k];
      const found = problems(env as Record<string, string>);
      assert.ok(
        found.some((p) => message.test(p)),
        `${name}: ${JSON.stringify(found)}`,
      );
    }
  });
});

/**
 * Loading APIv3 keys and certificates: PKCS#8 and PKCS#1, and a clear `config` error for each
 * wrong file a merchant can give; and the certificates the sandbox issues read back by Node.
 */
import assert from 'node:assert/strict';
import { createPrivateKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { v3 } from '../../../src/wechatpay/index.js';
import { identities, OFFICIAL_KEY } from './support.js';

function configError(f: () => unknown, message: RegExp): void {
  assert.throws(f, (err: v3.WechatPayV3Error) => {
    assert.equal(err.kind, 'config');
    assert.match(err.message, message);
    return true;
  });
}

describe('APIv3 keys and certificates', () => {
  it('reads the merchant private key as PKCS#8 and as PKCS#1', () => {
    const pkcs8 = v3.loadPrivateKey(OFFICIAL_KEY);
    const pkcs1 = createPrivateKey(OFFICIAL_KEY)
      .export({ type: 'pkcs1', format: 'pem' })
      .toString();
    assert.ok(pkcs1.startsWith('-----BEGIN RSA PRIVATE KEY-----'));
    assert.ok(v3.sameKey(pkcs8, v3.loadPrivateKey(pkcs1)));
    assert.ok(v3.sameKey(pkcs8, v3.loadPrivateKey(Buffer.from(OFFICIAL_KEY))));
  });

  it('says what was given where a private key was expected', async () => {
    const { merchant } = await identities();
    configError(
      () => v3.loadPrivateKey(merchant.certificatePem),
      /is a certificate \(apiclient_cert\.pem\?\)/,
    );
    const publicPem = createPrivateKey(OFFICIAL_KEY)
      .export({ type: 'pkcs1', format: 'pem' })
      .toString();
    configError(
      () =>
        v3.loadPrivateKey(
          v3.loadPublicKey(merchant.certificatePem).export({ type: 'spki', format: 'pem' }),
        ),
      /is a public key/,
    );
    const encrypted = createPrivateKey(OFFICIAL_KEY)
      .export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'x' })
      .toString();
    configError(() => v3.loadPrivateKey(encrypted), /is encrypted/);
    configError(() => v3.loadPrivateKey(''), /is empty/);
    configError(() => v3.loadPrivateKey('MIIEvAIBADANBg'), /is not PEM/);
    configError(
      () =>
        v3.loadPrivateKey(
          OFFICIAL_KEY.replaceAll('\n', '\\n').replace(/^-----BEGIN PRIVATE KEY-----/, 'x'),
        ),
      /literal \\n/,
    );
    configError(() => v3.loadPrivateKey(publicPem.replace('MII', 'MXX')), /cannot be read/);
  });

  it('refuses keys that are not RSA-2048', () => {
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    });
    configError(() => v3.loadPrivateKey(small), /is RSA-1024; WeChat Pay APIv3 keys are RSA-2048/);
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    });
    configError(() => v3.loadPrivateKey(ec), /is an ec key; WECHATPAY2-SHA256-RSA2048 needs RSA/);
  });

  it('reads a public key from SPKI, PKCS#1 or a certificate, and never takes a private key', async () => {
    const { merchant, publicKey } = await identities();
    const fromCert = v3.loadPublicKey(merchant.certificatePem);
    assert.ok(v3.sameKey(fromCert, v3.loadPrivateKey(merchant.privateKeyPem)));
    const spki = v3.loadPublicKey(publicKey.publicKeyPem);
    const pkcs1 = spki.export({ type: 'pkcs1', format: 'pem' }).toString();
    assert.ok(v3.sameKey(spki, v3.loadPublicKey(pkcs1)));
    configError(
      () => v3.loadPublicKey(merchant.privateKeyPem, 'the merchant public key'),
      /the merchant public key is a private key/,
    );
    configError(
      () => v3.loadCertificate(publicKey.publicKeyPem),
      /holds PUBLIC KEY, not a certificate/,
    );
  });

  it('checks that the merchant key, certificate and serial belong together', async () => {
    const { merchant, newCertificate } = await identities();
    const key = v3.loadPrivateKey(merchant.privateKeyPem);
    const cert = v3.loadCertificate(merchant.certificatePem);
    v3.checkMerchantCertificate(key, cert, merchant.serialNo);
    v3.checkMerchantCertificate(key, cert, merchant.serialNo.toLowerCase());
    configError(
      () => v3.checkMerchantCertificate(v3.loadPrivateKey(OFFICIAL_KEY), cert, merchant.serialNo),
      /does not belong/,
    );
    configError(
      () => v3.checkMerchantCertificate(key, cert, newCertificate.certificate.serialNo),
      /certificate serial is/,
    );
  });

  it('issues certificates Node reads and verifies, with the serial and validity asked for', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const notBefore = new Date('2026-01-01T00:00:00Z');
    const notAfter = new Date('2061-01-01T00:00:00Z'); // GeneralizedTime after 2049
    const pem = v3.issueCertificate({
      subjectKey: privateKey,
      issuerKey: privateKey,
      commonName: '微信支付 sandbox',
      serialNo: '00FF',
      notBefore,
      notAfter,
    });
    const cert = new X509Certificate(pem);
    assert.ok(cert.verify(publicKey));
    assert.equal(cert.serialNumber, 'FF');
    assert.equal(cert.subject, 'CN=微信支付 sandbox');
    assert.equal(Date.parse(cert.validFrom), notBefore.getTime());
    assert.equal(Date.parse(cert.validTo), notAfter.getTime());
    assert.equal(v3.normalizeSerial('00ff'), 'FF');
  });
});

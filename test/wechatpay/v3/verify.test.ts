/**
 * Verifying what WeChat signs: the Wechatpay-* headers (missing, repeated, stale, future, probe,
 * unknown serial, wrong signature type), the three modes (public key, platform certificates,
 * both) with which key verified, and the certificate refresh policy (periodic in the background,
 * on an unknown serial at most once a gap, validity windows, a rotation's overlap).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { v3 } from '../../../src/wechatpay/index.js';
import { identities, rejectsWith } from './support.js';

const BODY = '{"id":"EV-1","n":1}';

async function publicKeyMode() {
  const ids = await identities();
  const verifier = v3.publicKeyVerifier({
    keyId: ids.publicKey.keyId,
    publicKey: ids.publicKey.publicKeyPem,
  });
  return { ids, verifier };
}

function signed(
  signer: v3.Signer,
  body = BODY,
  options: { timestamp?: string; nonce?: string } = {},
) {
  const h = v3.signWechatpayHeaders(signer, body, options);
  return {
    'wechatpay-timestamp': h['Wechatpay-Timestamp'],
    'wechatpay-nonce': h['Wechatpay-Nonce'],
    'wechatpay-signature': h['Wechatpay-Signature'],
    'wechatpay-serial': h['Wechatpay-Serial'],
    'wechatpay-signature-type': h['Wechatpay-Signature-Type'],
  } as Record<string, string | string[] | undefined>;
}

/** A source that counts its downloads and serves `list()`. */
function countingSource(list: () => v3.PlatformCertificate[], kept: v3.PlatformCertificate[] = []) {
  const source = new v3.MemoryCertificateSource(async () => {
    source.downloads++;
    return list();
  }, kept) as v3.MemoryCertificateSource & { downloads: number };
  source.downloads = 0;
  return source;
}

describe('Wechatpay-* headers', () => {
  it('verifies a signed message and says which key did', async () => {
    const { ids, verifier } = await publicKeyMode();
    const v = await v3.verifySignedMessage(
      { headers: signed(ids.publicKey.signer), body: BODY },
      { verifier },
    );
    assert.deepEqual(v, { mode: 'public_key', serial: ids.publicKey.keyId });
    const asBuffer = await v3.verifySignedMessage(
      { headers: signed(ids.publicKey.signer), body: Buffer.from(BODY) },
      { verifier },
    );
    assert.equal(asBuffer.mode, 'public_key');
    const fetchHeaders = new Headers(signed(ids.publicKey.signer) as Record<string, string>);
    await v3.verifySignedMessage({ headers: fetchHeaders, body: BODY }, { verifier });
  });

  it('refuses a missing or empty header, naming it', async () => {
    const { ids, verifier } = await publicKeyMode();
    for (const name of [
      'wechatpay-timestamp',
      'wechatpay-nonce',
      'wechatpay-signature',
      'wechatpay-serial',
    ]) {
      for (const value of [undefined, '']) {
        const headers = { ...signed(ids.publicKey.signer), [name]: value };
        const e = await rejectsWith(
          v3.verifySignedMessage({ headers, body: BODY }, { verifier }),
          'invalid',
          'MISSING_HEADER',
        );
        assert.match(e.message.toLowerCase(), new RegExp(name));
      }
    }
  });

  it('refuses a repeated header, as an array or joined by a comma', async () => {
    const { ids, verifier } = await publicKeyMode();
    const h = signed(ids.publicKey.signer);
    for (const name of [
      'wechatpay-timestamp',
      'wechatpay-nonce',
      'wechatpay-signature',
      'wechatpay-serial',
      'wechatpay-signature-type',
    ]) {
      const value = h[name] as string;
      for (const repeated of [[value, value], `${value}, ${value}`]) {
        await rejectsWith(
          v3.verifySignedMessage({ headers: { ...h, [name]: repeated }, body: BODY }, { verifier }),
          'invalid',
          'DUPLICATE_HEADER',
        );
      }
    }
    const one = await v3.verifySignedMessage(
      { headers: { ...h, 'wechatpay-nonce': [h['wechatpay-nonce'] as string] }, body: BODY },
      { verifier },
    );
    assert.equal(one.mode, 'public_key');
  });

  it('takes timestamps within 5 minutes either way, and refuses 6 minutes old or ahead', async () => {
    const { ids, verifier } = await publicKeyMode();
    const now = Math.floor(Date.now() / 1000);
    for (const skew of [-290, 0, 290]) {
      await v3.verifySignedMessage(
        {
          headers: signed(ids.publicKey.signer, BODY, { timestamp: String(now + skew) }),
          body: BODY,
        },
        { verifier },
      );
    }
    const old = await rejectsWith(
      v3.verifySignedMessage(
        {
          headers: signed(ids.publicKey.signer, BODY, { timestamp: String(now - 360) }),
          body: BODY,
        },
        { verifier },
      ),
      'invalid',
      'STALE_TIMESTAMP',
    );
    assert.match(old.message, /6 min old.*clock/);
    const ahead = await rejectsWith(
      v3.verifySignedMessage(
        {
          headers: signed(ids.publicKey.signer, BODY, { timestamp: String(now + 360) }),
          body: BODY,
        },
        { verifier },
      ),
      'invalid',
      'STALE_TIMESTAMP',
    );
    assert.match(ahead.message, /6 min ahead/);
    for (const timestamp of ['1e9', '-1', `${now}.5`, ' 1']) {
      await rejectsWith(
        v3.verifySignedMessage(
          { headers: signed(ids.publicKey.signer, BODY, { timestamp }), body: BODY },
          { verifier },
        ),
        'invalid',
        'BAD_TIMESTAMP',
      );
    }
    // The window follows the injected clock.
    const later = () => (now + 3600) * 1000;
    await rejectsWith(
      v3.verifySignedMessage(
        { headers: signed(ids.publicKey.signer, BODY, { timestamp: String(now) }), body: BODY },
        { verifier, now: later },
      ),
      'invalid',
      'STALE_TIMESTAMP',
    );
  });

  it("refuses WeChat's signature probes, a tampered body, another key and a wrong signature type", async () => {
    const { ids, verifier } = await publicKeyMode();
    const h = signed(ids.publicKey.signer);
    await rejectsWith(
      v3.verifySignedMessage(
        { headers: { ...h, 'wechatpay-signature': v3.probeSignature() }, body: BODY },
        { verifier },
      ),
      'invalid',
      'SIGN_PROBE',
    );
    const tampered = await rejectsWith(
      v3.verifySignedMessage({ headers: h, body: BODY.replace('1', '2') }, { verifier }),
      'invalid',
      'BAD_SIGNATURE',
    );
    assert.match(tampered.message, /raw body/);
    await rejectsWith(
      v3.verifySignedMessage(
        { headers: { ...h, 'wechatpay-nonce': 'other' }, body: BODY },
        { verifier },
      ),
      'invalid',
      'BAD_SIGNATURE',
    );
    const forged = signed(ids.oldCertificate.signer);
    forged['wechatpay-serial'] = ids.publicKey.keyId;
    await rejectsWith(
      v3.verifySignedMessage({ headers: forged, body: BODY }, { verifier }),
      'invalid',
      'BAD_SIGNATURE',
    );
    await rejectsWith(
      v3.verifySignedMessage(
        { headers: { ...h, 'wechatpay-signature': 'AAAA' }, body: BODY },
        { verifier },
      ),
      'invalid',
      'BAD_SIGNATURE',
    );
    await rejectsWith(
      v3.verifySignedMessage(
        { headers: signed(ids.oldCertificate.signer), body: BODY },
        { verifier },
      ),
      'invalid',
      'UNKNOWN_SERIAL',
    );
    await rejectsWith(
      v3.verifySignedMessage(
        { headers: { ...h, 'wechatpay-signature-type': 'WECHATPAY2-SM2-WITH-SM3' }, body: BODY },
        { verifier },
      ),
      'invalid',
      'UNSUPPORTED_SIGNATURE_TYPE',
    );
    await assert.rejects(
      v3.verifySignedMessage({ headers: h, body: JSON.parse(BODY) }, { verifier }),
      /raw body.*a parsed JSON object cannot be verified/,
    );
  });

  it('refuses a public key id that is not PUB_KEY_ID_…', async () => {
    const { ids } = await publicKeyMode();
    assert.throws(
      () =>
        v3.publicKeyVerifier({
          keyId: ids.oldCertificate.certificate.serialNo,
          publicKey: ids.publicKey.publicKeyPem,
        }),
      /PUB_KEY_ID_/,
    );
  });
});

describe('platform certificates', () => {
  it('downloads when none are kept, verifies both certificates of a rotation, and says which', async () => {
    const ids = await identities();
    const both = [ids.oldCertificate.certificate, ids.newCertificate.certificate];
    const source = countingSource(() => both);
    const verifier = new v3.CertificateVerifier(source);
    for (const c of [ids.oldCertificate, ids.newCertificate]) {
      const v = await v3.verifySignedMessage(
        { headers: signed(c.signer), body: BODY },
        { verifier },
      );
      assert.deepEqual(v, {
        mode: 'certificate',
        serial: v3.normalizeSerial(c.certificate.serialNo),
      });
    }
    assert.equal(source.downloads, 1);
    assert.deepEqual(
      verifier.serials().sort(),
      both.map((c) => v3.normalizeSerial(c.serialNo)).sort(),
    );
  });

  it('refreshes once on an unknown serial, then not again within the gap', async () => {
    const ids = await identities();
    let list = [ids.oldCertificate.certificate];
    let now = Date.now();
    const source = countingSource(() => list, list);
    const events: string[] = [];
    const verifier = new v3.CertificateVerifier(source, {
      now: () => now,
      unknownSerialGapMs: 60_000,
      onRefresh: (e) => events.push(`${e.reason}:${e.serials.length}`),
    });
    const check = (signer: v3.Signer, serial?: string) => {
      const headers = signed(signer);
      if (serial) headers['wechatpay-serial'] = serial;
      return v3.verifySignedMessage({ headers, body: BODY }, { verifier, now: () => now });
    };
    await check(ids.oldCertificate.signer);
    // The kept list may be old: the first verification refreshed it in the background.
    await new Promise((r) => setImmediate(r));
    assert.equal(source.downloads, 1);
    // WeChat starts signing with a certificate not kept yet: one refresh finds it.
    list = [ids.oldCertificate.certificate, ids.newCertificate.certificate];
    now += 1000;
    const v = await check(ids.newCertificate.signer);
    assert.equal(v.serial, v3.normalizeSerial(ids.newCertificate.certificate.serialNo));
    assert.equal(source.downloads, 2);
    // Forged serials within the gap cost no download.
    now += 1000;
    await rejectsWith(check(ids.publicKey.signer, 'ABCDEF0123'), 'invalid', 'UNKNOWN_SERIAL');
    await rejectsWith(check(ids.publicKey.signer, 'ABCDEF0124'), 'invalid', 'UNKNOWN_SERIAL');
    assert.equal(source.downloads, 2);
    now += 61_000;
    await rejectsWith(check(ids.publicKey.signer, 'ABCDEF0125'), 'invalid', 'UNKNOWN_SERIAL');
    assert.equal(source.downloads, 3);
    assert.deepEqual(events, ['periodic:1', 'unknown_serial:2', 'unknown_serial:2']);
  });

  it('a refresh under way that started before the rotation does not make the new serial refused', async () => {
    const ids = await identities();
    let now = Date.now();
    let gate: Promise<void> = Promise.resolve();
    let list = [ids.oldCertificate.certificate];
    let downloads = 0;
    const source = new v3.MemoryCertificateSource(async () => {
      downloads++;
      const answer = list;
      await gate;
      return answer;
    });
    const verifier = new v3.CertificateVerifier(source, {
      now: () => now,
      refreshIntervalMs: 3600_000,
    });
    const check = (signer: v3.Signer) =>
      v3.verifySignedMessage({ headers: signed(signer), body: BODY }, { verifier });
    await check(ids.oldCertificate.signer);
    // A periodic refresh starts and WeChat answers it slowly, with the list of before.
    let release: () => void = () => undefined;
    gate = new Promise((r) => {
      release = r;
    });
    now += 3600_000;
    await check(ids.oldCertificate.signer);
    // WeChat rotates meanwhile and signs with the new certificate.
    list = [ids.oldCertificate.certificate, ids.newCertificate.certificate];
    const pending = check(ids.newCertificate.signer);
    gate = Promise.resolve();
    release();
    const v = await pending;
    assert.equal(v.serial, v3.normalizeSerial(ids.newCertificate.certificate.serialNo));
    assert.equal(downloads, 3);
  });

  it('refreshes periodically in the background, going on with the certificates at hand', async () => {
    const ids = await identities();
    let now = Date.now();
    let gate: Promise<void> = Promise.resolve();
    let downloads = 0;
    const source = new v3.MemoryCertificateSource(async () => {
      downloads++;
      await gate;
      return [ids.oldCertificate.certificate];
    });
    const verifier = new v3.CertificateVerifier(source, {
      now: () => now,
      refreshIntervalMs: 3600_000,
    });
    const check = () =>
      v3.verifySignedMessage(
        { headers: signed(ids.oldCertificate.signer), body: BODY },
        { verifier },
      );
    await check();
    now += 1800_000;
    await check();
    assert.equal(downloads, 1);
    // An hour on, WeChat hangs: verification still answers, the refresh waits in the background.
    let release: () => void = () => undefined;
    gate = new Promise((r) => {
      release = r;
    });
    now += 1800_000;
    assert.equal((await check()).mode, 'certificate');
    assert.equal((await check()).mode, 'certificate');
    assert.equal(downloads, 2);
    release();
  });

  it('concurrent verifications share one download', async () => {
    const ids = await identities();
    const source = countingSource(() => [ids.oldCertificate.certificate]);
    const verifier = new v3.CertificateVerifier(source);
    await Promise.all(
      Array.from({ length: 5 }, () =>
        v3.verifySignedMessage(
          { headers: signed(ids.oldCertificate.signer), body: BODY },
          { verifier },
        ),
      ),
    );
    assert.equal(source.downloads, 1);
  });

  it('refuses a certificate outside its validity, and a failed download leaves UNKNOWN_SERIAL', async () => {
    const ids = await identities();
    const expired = {
      ...ids.oldCertificate.certificate,
      expireTime: new Date(Date.now() - 3600_000),
    };
    const verifier = new v3.CertificateVerifier(countingSource(() => [expired]));
    await rejectsWith(
      v3.verifySignedMessage(
        { headers: signed(ids.oldCertificate.signer), body: BODY },
        { verifier },
      ),
      'invalid',
      'CERTIFICATE_NOT_VALID',
    );
    const notYet = {
      ...ids.newCertificate.certificate,
      effectiveTime: new Date(Date.now() + 3600_000),
    };
    const early = new v3.CertificateVerifier(countingSource(() => [notYet]));
    await rejectsWith(
      v3.verifySignedMessage(
        { headers: signed(ids.newCertificate.signer), body: BODY },
        { verifier: early },
      ),
      'invalid',
      'CERTIFICATE_NOT_VALID',
    );
    const failing = new v3.CertificateVerifier(
      new v3.MemoryCertificateSource(async () => {
        throw new Error('WeChat unreachable');
      }, [ids.oldCertificate.certificate]),
    );
    await rejectsWith(
      v3.verifySignedMessage(
        { headers: signed(ids.newCertificate.signer), body: BODY },
        { verifier: failing },
      ),
      'invalid',
      'UNKNOWN_SERIAL',
    );
  });

  it('both modes: the public key for its id, the certificates for the rest', async () => {
    const ids = await identities();
    const verifier = v3.bothVerifier(
      v3.publicKeyVerifier({ keyId: ids.publicKey.keyId, publicKey: ids.publicKey.publicKeyPem }),
      new v3.CertificateVerifier(countingSource(() => [ids.oldCertificate.certificate])),
    );
    const a = await v3.verifySignedMessage(
      { headers: signed(ids.publicKey.signer), body: BODY },
      { verifier },
    );
    const b = await v3.verifySignedMessage(
      { headers: signed(ids.oldCertificate.signer), body: BODY },
      { verifier },
    );
    assert.deepEqual([a.mode, b.mode], ['public_key', 'certificate']);
    await rejectsWith(
      v3.verifySignedMessage(
        { headers: signed(ids.newCertificate.signer), body: BODY },
        { verifier },
      ),
      'invalid',
      'UNKNOWN_SERIAL',
    );
  });
});

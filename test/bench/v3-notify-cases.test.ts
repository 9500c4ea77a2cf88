/**
 * The APIv3 notification cases of the v3 peer benchmark are what their titles say, and
 * minipay's notification reader gets every one of them right (the benchmark's minipay column
 * is this test's result); the crypto floor accepts the notification it is timed on.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cryptoFloor, minipayV3 } from '../../bench/support/v3-libraries.js';
import { V3_MERCHANT, v3NotifyCases, validV3Notify } from '../../bench/support/v3-notify-cases.js';
import { v3 } from '../../src/wechatpay/index.js';

const options = {
  verifier: v3.bothVerifier(
    v3.publicKeyVerifier({ keyId: V3_MERCHANT.publicKeyId, publicKey: V3_MERCHANT.publicKeyPem }),
    new v3.CertificateVerifier(
      new v3.MemoryCertificateSource(async () => [
        {
          serialNo: V3_MERCHANT.certificate.serialNo,
          pem: V3_MERCHANT.certificate.pem,
          effectiveTime: new Date('2025-01-01T00:00:00Z'),
          expireTime: new Date('2035-01-01T00:00:00Z'),
        },
      ]),
    ),
  ),
  apiV3Key: v3.loadApiV3Key(V3_MERCHANT.apiV3Key),
  mchId: V3_MERCHANT.mchId,
  appId: V3_MERCHANT.appId,
};

/** Why minipay refuses each refused case: the case is what its title says. */
const WHY: Record<string, string> = {
  'no-signature': 'MISSING_HEADER',
  'duplicate-signature': 'DUPLICATE_HEADER',
  stale: 'STALE_TIMESTAMP',
  future: 'STALE_TIMESTAMP',
  'unknown-serial': 'UNKNOWN_SERIAL',
  probe: 'SIGN_PROBE',
  'tampered-body': 'BAD_SIGNATURE',
  'tampered-ciphertext': 'BAD_CIPHERTEXT',
  'tampered-tag': 'BAD_CIPHERTEXT',
  'tampered-aad': 'BAD_CIPHERTEXT',
  'other-api-v3-key': 'BAD_CIPHERTEXT',
  'not-json': 'NOT_JSON',
  oversized: 'TOO_LARGE',
  'wrong-event': 'WRONG_EVENT',
  'other-merchant': 'WRONG_MERCHANT',
};

describe('v3 peer benchmark notification cases', () => {
  it('minipay accepts the accept cases and refuses each refuse case for its reason', async () => {
    for (const c of v3NotifyCases()) {
      if (c.expect === 'accept') {
        const n = await v3.readPaymentNotification(c.message, options);
        assert.equal(n.transaction.amount?.total, 1999, c.id);
        continue;
      }
      await assert.rejects(
        v3.readPaymentNotification(c.message, options),
        (err: v3.WechatPayV3Error) => {
          assert.equal(err.code, WHY[c.id], c.id);
          return true;
        },
      );
    }
  });

  it("the benchmark's minipay adapter and the floor agree with the reader", async () => {
    const lib = minipayV3();
    for (const c of v3NotifyCases())
      assert.equal(await lib.readNotify(c.message), c.expect === 'accept', c.id);
    assert.equal(await cryptoFloor().readNotify(validV3Notify()), true);
  });
});

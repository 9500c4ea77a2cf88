/**
 * AEAD_AES_256_GCM: WeChat's official vector (docs/wechat-rules.md), round trips, and every
 * alteration refused because the tag is checked; the APIv3 key is exactly 32 bytes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { v3 } from '../../../src/wechatpay/index.js';
import { API_V3_KEY } from './support.js';

const key = v3.loadApiV3Key(API_V3_KEY);
const OFFICIAL = {
  algorithm: 'AEAD_AES_256_GCM',
  nonce: 'uluk4a9R25RW',
  associated_data: 'associatedData',
  ciphertext: 'ulwSiIajGClcvcOYvOQ7+l+0PAbzzwI=',
};

function refused(resource: unknown, code: string, k = key): void {
  assert.throws(
    () => v3.decryptResource(k, resource, 'the resource'),
    (err: v3.WechatPayV3Error) => err.kind === 'invalid' && err.code === code,
  );
}

/** `ciphertext` with one bit flipped at byte `at` (negative: from the end, i.e. the tag). */
function flip(ciphertext: string, at: number): string {
  const b = Buffer.from(ciphertext, 'base64');
  b[at < 0 ? b.length + at : at]! ^= 0x01;
  return b.toString('base64');
}

describe('AEAD_AES_256_GCM', () => {
  it('decrypts the official vector (wechatpay-java AeadAesCipherTest)', () => {
    assert.equal(v3.decryptResource(key, OFFICIAL, 'the vector').toString(), 'message');
    const again = v3.encryptResource(key, 'message', {
      nonce: OFFICIAL.nonce,
      associatedData: OFFICIAL.associated_data,
    });
    assert.equal(again.ciphertext, OFFICIAL.ciphertext);
  });

  it('round-trips, with empty associated data too', () => {
    const text = JSON.stringify({ amount: { total: 100 }, 名: '中文' });
    for (const associatedData of ['transaction', '']) {
      const r = v3.encryptResource(key, text, { associatedData });
      assert.equal(r.nonce.length, 12);
      assert.equal(v3.decryptResource(key, r, 'x').toString(), text);
    }
  });

  it('refuses a tampered ciphertext, tag, nonce or associated data, and another key', () => {
    const r = v3.encryptResource(key, '{"amount":{"total":100}}', {
      associatedData: 'transaction',
    });
    refused({ ...r, ciphertext: flip(r.ciphertext, 14) }, 'BAD_CIPHERTEXT'); // "100" → "180"-style
    refused({ ...r, ciphertext: flip(r.ciphertext, -1) }, 'BAD_CIPHERTEXT');
    refused(
      { ...r, nonce: `${r.nonce.slice(0, 11)}${r.nonce[11] === 'a' ? 'b' : 'a'}` },
      'BAD_CIPHERTEXT',
    );
    refused({ ...r, associated_data: 'refund' }, 'BAD_CIPHERTEXT');
    refused({ ...r, associated_data: undefined }, 'BAD_CIPHERTEXT');
    refused(r, 'BAD_CIPHERTEXT', v3.loadApiV3Key('b'.repeat(32)));
  });

  it('refuses malformed resources before decrypting', () => {
    const r = v3.encryptResource(key, 'x');
    refused({ ...r, algorithm: 'AEAD_AES_128_GCM' }, 'MALFORMED');
    refused({ ...r, nonce: 'short' }, 'MALFORMED');
    refused({ ...r, ciphertext: 'not base64!' }, 'MALFORMED');
    refused({ ...r, ciphertext: Buffer.alloc(8).toString('base64') }, 'MALFORMED');
    refused({ ...r, associated_data: 7 }, 'MALFORMED');
    refused(null, 'MALFORMED');
    refused('text', 'MALFORMED');
  });

  it('takes an APIv3 key of exactly 32 bytes, and says why not otherwise', () => {
    const bad: [string | Buffer, RegExp][] = [
      ['a'.repeat(31), /is 31 bytes; it must be exactly 32/],
      ['a'.repeat(33), /is 33 bytes/],
      [`${'a'.repeat(31)}é`, /is 33 bytes \(32 characters\)/],
      [` ${'a'.repeat(32)}`, /whitespace/],
      [Buffer.alloc(16), /is 16 bytes/],
    ];
    for (const [k, message] of bad) {
      assert.throws(
        () => v3.loadApiV3Key(k),
        (err: v3.WechatPayV3Error) => err.kind === 'config' && message.test(err.message),
      );
    }
    assert.equal(v3.loadApiV3Key(Buffer.from(API_V3_KEY)).symmetricKeySize, 32);
  });
});

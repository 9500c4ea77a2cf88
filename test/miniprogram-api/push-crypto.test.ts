import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  aesKeyOf,
  decryptPushMessage,
  encryptPushMessage,
  MiniProgramApiError,
  pushSignature,
  signatureMatches,
} from '../../src/miniprogram-api/index.js';
import { OFFICIAL } from './vectors.js';

const cipher = { encodingAesKey: OFFICIAL.encodingAesKey, appId: OFFICIAL.appId };

/** `body` encrypted raw (no layout, padding as given), to forge what encryptPushMessage never makes. */
function rawEncrypt(body: Buffer): string {
  const key = aesKeyOf(OFFICIAL.encodingAesKey);
  const c = createCipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false);
  return Buffer.concat([c.update(body), c.final()]).toString('base64');
}

function layout(message: string, appId: string): Buffer {
  const msg = Buffer.from(message);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(msg.length);
  return Buffer.concat([Buffer.alloc(16, 0x61), len, msg, Buffer.from(appId)]);
}

function rejects(fn: () => unknown, code: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof MiniProgramApiError);
    assert.equal(err.code, code);
    return true;
  });
}

describe('push cryptography: the official example', () => {
  test('signatures of the URL check, the plain push, the safe push and the reply', () => {
    const { token, urlCheck, plain, safe, reply } = OFFICIAL;
    assert.equal(pushSignature(token, urlCheck.timestamp, urlCheck.nonce), urlCheck.signature);
    assert.equal(pushSignature(token, plain.timestamp, plain.nonce), plain.signature);
    assert.equal(pushSignature(token, safe.timestamp, safe.nonce), safe.signature);
    assert.equal(pushSignature(token, safe.timestamp, safe.nonce, safe.encrypt), safe.msgSignature);
    assert.equal(
      pushSignature(token, reply.timestamp, reply.nonce, reply.encrypt),
      reply.msgSignature,
    );
  });

  test('decrypts the pushed Encrypt to the documented message', () => {
    assert.equal(decryptPushMessage(OFFICIAL.safe.encrypt, cipher), OFFICIAL.safe.message);
  });

  test('encrypts exactly as WeChat does, given the same 16 random bytes', () => {
    const { safe, reply } = OFFICIAL;
    assert.equal(
      encryptPushMessage(safe.message, { ...cipher, random: Buffer.from(safe.random) }),
      safe.encrypt,
    );
    assert.equal(
      encryptPushMessage(reply.message, { ...cipher, random: Buffer.from(reply.random) }),
      reply.encrypt,
    );
  });

  test("WeChat's sample-code vector (WXBizMsgCrypt: Chinese text, another key and AppID)", () => {
    const options = {
      encodingAesKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
      appId: 'wxb11529c136998cb6',
    };
    const encrypt =
      'jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg==';
    assert.equal(
      encryptPushMessage('我是中文abcd123', {
        ...options,
        random: Buffer.from('aaaabbbbccccdddd'),
      }),
      encrypt,
    );
    assert.equal(decryptPushMessage(encrypt, options), '我是中文abcd123');
  });
});

describe('push cryptography: round trip and refusals', () => {
  test('round trip of messages of every padding length, random bytes fresh each time', () => {
    for (let n = 0; n < 70; n++) {
      const message = `{"k":"${'中'.repeat(n % 7)}${'x'.repeat(n)}"}`;
      const a = encryptPushMessage(message, cipher);
      assert.notEqual(a, encryptPushMessage(message, cipher));
      assert.equal(Buffer.from(a, 'base64').length % 32, 0);
      assert.equal(decryptPushMessage(a, cipher), message);
    }
  });

  test('an EncodingAESKey that is not 43 letters and digits is a config error', () => {
    for (const key of ['A'.repeat(42), 'A'.repeat(44), `${'A'.repeat(42)}+`, '']) {
      assert.throws(
        () => aesKeyOf(key),
        (err: unknown) => err instanceof MiniProgramApiError && err.kind === 'config',
      );
    }
  });

  test('another AppID at the end of the message is refused', () => {
    const other = encryptPushMessage('{}', { ...cipher, appId: 'wx0000000000000000' });
    rejects(() => decryptPushMessage(other, cipher), 'WRONG_APPID');
    const prefix = encryptPushMessage('{}', { ...cipher, appId: `${OFFICIAL.appId}x` });
    rejects(() => decryptPushMessage(prefix, cipher), 'WRONG_APPID');
  });

  test('bad padding: zero, over 32, inconsistent bytes', () => {
    const body = layout('{}', OFFICIAL.appId); // 40 bytes: 24 of padding
    const n = 32 - (body.length % 32);
    const pad = (last: number, rest = last) =>
      rawEncrypt(Buffer.concat([body, Buffer.alloc(n - 1, rest), Buffer.from([last])]));
    rejects(() => decryptPushMessage(pad(0), cipher), 'BAD_PADDING');
    rejects(() => decryptPushMessage(pad(33), cipher), 'BAD_PADDING');
    rejects(() => decryptPushMessage(pad(7, n), cipher), 'BAD_PADDING');
    rejects(() => decryptPushMessage(pad(n, 9), cipher), 'BAD_PADDING');
    // The same bytes with correct padding decrypt: the refusals above are the padding's.
    assert.equal(decryptPushMessage(pad(n), cipher), '{}');
  });

  test('a length field beyond the message, a too-short message, not UTF-8', () => {
    const withPadding = (b: Buffer) => {
      const n = 32 - (b.length % 32);
      return rawEncrypt(Buffer.concat([b, Buffer.alloc(n, n)]));
    };
    const long = layout('{}', OFFICIAL.appId);
    long.writeUInt32BE(1000, 16);
    rejects(() => decryptPushMessage(withPadding(long), cipher), 'BAD_LAYOUT');
    rejects(() => decryptPushMessage(rawEncrypt(Buffer.alloc(32, 16)), cipher), 'BAD_LAYOUT');
    const notUtf8 = layout('x', OFFICIAL.appId);
    notUtf8[20] = 0xff; // a lone 0xff byte where the message is
    rejects(() => decryptPushMessage(withPadding(notUtf8), cipher), 'NOT_UTF8');
  });

  test('not base64, not whole blocks, empty', () => {
    rejects(() => decryptPushMessage('not base64!', cipher), 'BAD_CIPHERTEXT');
    rejects(() => decryptPushMessage('', cipher), 'BAD_CIPHERTEXT');
    rejects(
      () => decryptPushMessage(Buffer.alloc(20).toString('base64'), cipher),
      'BAD_CIPHERTEXT',
    );
    rejects(
      () => decryptPushMessage(Buffer.alloc(40).toString('base64'), cipher),
      'BAD_CIPHERTEXT',
    );
  });

  test('signatures compare in full: length, case of a single digit', () => {
    const s = OFFICIAL.urlCheck.signature;
    assert.ok(signatureMatches(s, s));
    assert.ok(!signatureMatches(s.slice(0, 39), s));
    assert.ok(!signatureMatches(`${s.slice(0, 39)}0`, s));
    assert.ok(!signatureMatches('', s));
  });
});

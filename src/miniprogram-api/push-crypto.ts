/**
 * The cryptography of message push (消息推送) in safe mode, both ways: the merchant decrypts,
 * the sandbox (playing WeChat) encrypts.
 *
 * - signature     = sha1 of token, timestamp, nonce sorted and joined (plain mode, URL check);
 * - msg_signature = the same over token, timestamp, nonce and `Encrypt` (safe mode);
 * - AESKey = base64-decode(EncodingAESKey + "="), 32 bytes; AES-256-CBC, IV = AESKey[0..16];
 * - plaintext = random(16) + len(msg) as 4 bytes big-endian + msg + AppID, padded PKCS#7 to
 *   a multiple of 32 bytes (not the 16 of AES).
 * Source and the official worked example: docs/miniprogram-api.md, "Message push".
 *
 * `decryptPushMessage` runs only after `msg_signature` verified (push.ts), so a padding error
 * tells an attacker nothing; it still refuses anything but exact padding and layout.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { MiniProgramApiError } from './errors.js';

const ENCODING_AES_KEY = /^[A-Za-z0-9]{43}$/;
const BLOCK = 32;

/** The 32-byte AES key of a 43-character EncodingAESKey; throws `config` for anything else. */
export function aesKeyOf(encodingAesKey: string): Buffer {
  if (!ENCODING_AES_KEY.test(encodingAesKey)) {
    throw new MiniProgramApiError(
      'config',
      'BAD_ENCODING_AES_KEY',
      'the EncodingAESKey must be the 43 letters and digits shown in the mini program admin (开发管理 → 消息推送)',
    );
  }
  return Buffer.from(`${encodingAesKey}=`, 'base64');
}

/** sha1 (lower-case hex) of `parts` sorted and joined: `signature` and `msg_signature`. */
export function pushSignature(...parts: string[]): string {
  return createHash('sha1')
    .update([...parts].sort().join(''))
    .digest('hex');
}

/** Compares a received signature with the expected one in constant time. */
export function signatureMatches(received: string, expected: string): boolean {
  const a = Buffer.from(received, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

export interface PushCipherOptions {
  encodingAesKey: string;
  appId: string;
}

/** `Encrypt` of a message (what WeChat sends). `random` is 16 bytes, fresh when absent. */
export function encryptPushMessage(
  message: string,
  options: PushCipherOptions & { random?: Buffer },
): string {
  const key = aesKeyOf(options.encodingAesKey);
  const random = options.random ?? randomBytes(16);
  if (random.length !== 16) throw new RangeError('random must be 16 bytes');
  const msg = Buffer.from(message, 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(msg.length);
  const plain = Buffer.concat([random, length, msg, Buffer.from(options.appId, 'utf8')]);
  const pad = BLOCK - (plain.length % BLOCK);
  const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false);
  return Buffer.concat([
    cipher.update(plain),
    cipher.update(Buffer.alloc(pad, pad)),
    cipher.final(),
  ]).toString('base64');
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})+(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The message inside `Encrypt`, after checking its padding, its length field and that the
 * AppID at its end is ours; throws `MiniProgramApiError('invalid')`.
 */
export function decryptPushMessage(encrypt: string, options: PushCipherOptions): string {
  const key = aesKeyOf(options.encodingAesKey);
  if (!BASE64.test(encrypt)) throw invalid('BAD_CIPHERTEXT', 'Encrypt is not base64');
  const data = Buffer.from(encrypt, 'base64');
  if (data.length < BLOCK || data.length % 16 !== 0) {
    throw invalid('BAD_CIPHERTEXT', 'Encrypt is not whole AES blocks');
  }
  const decipher = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false);
  const plain = Buffer.concat([decipher.update(data), decipher.final()]);
  const pad = plain[plain.length - 1]!;
  if (pad < 1 || pad > BLOCK || plain.subarray(plain.length - pad).some((b) => b !== pad)) {
    throw invalid('BAD_PADDING', 'the decrypted message has no valid PKCS#7 padding');
  }
  const body = plain.subarray(0, plain.length - pad);
  if (body.length < 20) throw invalid('BAD_LAYOUT', 'the decrypted message is too short');
  const length = body.readUInt32BE(16);
  if (20 + length > body.length) {
    throw invalid('BAD_LAYOUT', 'the length inside the decrypted message exceeds it');
  }
  const appId = body.subarray(20 + length).toString('latin1');
  if (appId !== options.appId) {
    throw invalid(
      'WRONG_APPID',
      `the message is for AppID ${JSON.stringify(appId.slice(0, 32))}, not ${options.appId}`,
    );
  }
  try {
    return utf8.decode(body.subarray(20, 20 + length));
  } catch {
    throw invalid('NOT_UTF8', 'the decrypted message is not UTF-8');
  }
}

function invalid(code: string, message: string): MiniProgramApiError {
  return new MiniProgramApiError('invalid', code, `message push: ${message}`);
}

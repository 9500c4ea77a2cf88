/**
 * WeChat Pay APIv2 signatures (安全规范 / 签名算法,
 * https://pay.weixin.qq.com/doc/v2/merchant/4011985891).
 *
 * Official vector (also in test/wechatpay/sign.test.ts): fields appid=wxd930ea5d5a258f4f,
 * mch_id=10000100, device_info=1000, body=test, nonce_str=ibuaiVcKdpRxkhJA and key
 * 192006250b4c09247ec02edce69f6a2d give MD5 9A0A8659F005D6984697E2CA0A9CF3B7 and
 * HMAC-SHA256 6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6.
 *
 * What "empty" means (the peers disagree; this follows the letter of the official doc,
 * "值为空的参数不参与签名", and signs exactly the strings that travel on the wire):
 * - skipped: `undefined`, `null` and `''`;
 * - signed: `0` (as "0"), `false` is not a valid value, and whitespace is data: `' '` and
 *   `' a '` are signed as they are. The official Java SDK trims; minipay instead refuses to
 *   *send* values with leading or trailing whitespace (see `assertWireSafe`), so both
 *   readings agree on everything minipay emits, and a received message is verified over
 *   exactly the bytes that arrived.
 */
import { createHmac, hash, timingSafeEqual } from 'node:crypto';

export type SignType = 'MD5' | 'HMAC-SHA256';
export const SIGN_TYPES: readonly SignType[] = ['MD5', 'HMAC-SHA256'];

/** A flat v2 message before encoding. Numbers are sent as their decimal string. */
export type V2Fields = Readonly<Record<string, string | number | null | undefined>>;

const FIELD_NAME = /^[A-Za-z0-9_]+$/;

/** `k1=v1&k2=v2…&key=KEY`: the exact string that is hashed. */
export function v2SignString(fields: V2Fields, key: string): string {
  if (!key) throw new TypeError('WeChat Pay APIv2 key is empty: set the merchant API key');
  const names = Object.keys(fields).sort();
  let out = '';
  for (const name of names) {
    if (name === 'sign') continue;
    const raw = fields[name];
    if (raw === undefined || raw === null || raw === '') continue;
    if (!FIELD_NAME.test(name))
      throw new TypeError(`invalid v2 field name: ${JSON.stringify(name)}`);
    out += `${name}=${typeof raw === 'number' ? numberToWire(raw, name) : raw}&`;
  }
  return `${out}key=${key}`;
}

/** Uppercase hex MD5 or HMAC-SHA256 of `v2SignString(fields, key)`. */
export function signV2(fields: V2Fields, key: string, signType: SignType = 'MD5'): string {
  const message = v2SignString(fields, key);
  // One-shot `hash` (UTF-8 for a string): half the cost of a createHash object for ~500 bytes.
  if (signType === 'MD5') return hash('md5', message, 'hex').toUpperCase();
  if (signType === 'HMAC-SHA256') {
    return createHmac('sha256', key).update(message, 'utf8').digest('hex').toUpperCase();
  }
  throw new TypeError(`unsupported sign type: ${String(signType)}`);
}

/**
 * Checks `fields.sign` against the signature computed with `signType`, in constant time.
 * The caller decides the algorithm (never the message): a merchant verifies with the sign type
 * it ordered with; a server (the sandbox) uses the request's own `sign_type`.
 * A missing, short, long or lower-case `sign` is a plain `false`, never an exception.
 */
export function verifyV2(
  fields: Readonly<Record<string, string | undefined>>,
  key: string,
  signType: SignType,
): boolean {
  const given = fields.sign;
  if (typeof given !== 'string' || given.length === 0) return false;
  return constantTimeEqual(given, signV2(fields, key, signType));
}

/** The `sign_type` a v2 request declares (absent means MD5), or `undefined` if it is invalid. */
export function declaredSignType(
  fields: Readonly<Record<string, string | undefined>>,
): SignType | undefined {
  const declared = fields.sign_type;
  if (declared === undefined || declared === '') return 'MD5';
  return (SIGN_TYPES as readonly string[]).includes(declared) ? (declared as SignType) : undefined;
}

/** Constant-time string comparison; unequal lengths return false without throwing. */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  if (left.length !== right.length) {
    // Still spend the time of a comparison so the length is the only thing that leaks.
    timingSafeEqual(right, right);
    return false;
  }
  return timingSafeEqual(left, right);
}

/**
 * Throws if a value would be ambiguous on the wire: leading/trailing whitespace (the official
 * SDK trims before signing, WeChat's server may not) or characters XML 1.0 cannot carry.
 */
export function assertWireSafe(fields: V2Fields): void {
  for (const [name, value] of Object.entries(fields)) {
    if (typeof value !== 'string' || value === '') continue;
    if (value.trim() !== value) {
      throw new TypeError(
        `v2 field ${name} has leading or trailing whitespace; trim it before sending`,
      );
    }
    // biome-ignore lint/suspicious/noControlCharactersInRegex: that is the point of the check
    if (/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/.test(value)) {
      throw new TypeError(`v2 field ${name} contains a control character XML cannot carry`);
    }
  }
}

function numberToWire(value: number, name: string): string {
  if (!Number.isSafeInteger(value)) {
    throw new TypeError(`v2 field ${name} must be an integer (fen), got ${value}`);
  }
  return String(value);
}

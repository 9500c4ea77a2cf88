/**
 * Verifying what WeChat signs (签名验证, docs/wechat-rules.md): every answer and notification,
 * before any field of it is read.
 *
 * `verifySignedMessage` checks, in order, each refusal a `WechatPayError('invalid')`:
 * the four `Wechatpay-*` headers present, once each (`MISSING_HEADER`, `DUPLICATE_HEADER`) →
 * `Wechatpay-Signature-Type`, when given, is `WECHATPAY2-SHA256-RSA2048` → the timestamp is
 * digits and within 5 minutes of now, either way (`STALE_TIMESTAMP`, as wechatpay-go's
 * `FiveMinute`) → a `WECHATPAY/SIGNTEST/` signature is WeChat's probe (`SIGN_PROBE`: it would
 * fail verification anyway; named so logs tell probes from forgeries) → the `Verifier` checks
 * the signature over `TIMESTAMP\nNONCE\nBODY\n` with the key `Wechatpay-Serial` names.
 *
 * A `Verifier` is one method, as in wechatpay-go: a WeChat Pay public key
 * (`publicKeyVerifier`), platform certificates (certificates.ts), or both (`bothVerifier`,
 * chosen by `Wechatpay-Serial`). Each says which key verified (`Verification`), for metrics.
 */
import { createVerify, type KeyObject } from 'node:crypto';
import { configError, invalid } from './errors.js';
import { loadPublicKey, PUBLIC_KEY_ID } from './keys.js';
import {
  type ParsedAuthorization,
  parseAuthorization,
  SIGN_PROBE_PREFIX,
  SIGNATURE_TYPE,
  wechatpayMessage,
} from './sign.js';

/** Which key verified a message. */
export interface Verification {
  /** `public_key`: WeChat Pay's public key; `certificate`: a platform certificate. */
  mode: 'public_key' | 'certificate';
  /** The public key id or the certificate serial. */
  serial: string;
}

/** Verifies a signature made by the key `serial` names (wechatpay-go `auth.Verifier`). */
export interface Verifier {
  /** Resolves which key verified; rejects with `WechatPayError('invalid')` otherwise. */
  verify(serial: string, message: Buffer, signature: string): Promise<Verification>;
}

/** Checks one RSA-SHA256 signature with `key`; false for any malformed signature. */
export function rsaVerify(key: KeyObject, message: Buffer, signature: string): boolean {
  // A 2048-bit signature is 344 base64 characters; the decoder skips any other character, so
  // a signature with one decodes short.
  if (signature.length !== 344) return false;
  const bytes = Buffer.from(signature, 'base64');
  // createVerify, not the one-shot crypto.verify: in Node 20 the one-shot call sets up a
  // crypto job around the same OpenSSL verify, and is the slower of the two.
  return bytes.length === 256 && createVerify('sha256').update(message).verify(key, bytes);
}

/** What to check when WeChat's signature does not verify: the key it is checked with. */
const PLATFORM_KEY = ['platformKey'] as const;

export function badSignature(serial: string) {
  return invalid(
    'BAD_SIGNATURE',
    `Wechatpay-Signature does not verify with the key of Wechatpay-Serial ${serial}: the body or a Wechatpay-* header was changed on the way (verify the raw body bytes as received, never re-serialised JSON), the key configured for that serial is not WeChat's, or it is not from WeChat`,
    { settings: PLATFORM_KEY },
  );
}

export interface PublicKeyVerifierOptions {
  /** `PUB_KEY_ID_…`, as the merchant platform shows it. */
  keyId: string;
  /** The WeChat Pay public key (PEM, `BEGIN PUBLIC KEY`) or a loaded key. */
  publicKey: string | Buffer | KeyObject;
}

/** A verifier of WeChat Pay public keys: the ids it verifies. */
export type PublicKeysVerifier = Verifier & { keyId: string; keyIds: readonly string[] };

/** Verifies with WeChat Pay's public key (公钥模式), the mode of merchants since late 2024. */
export function publicKeyVerifier(options: PublicKeyVerifierOptions): PublicKeysVerifier {
  if (!PUBLIC_KEY_ID.test(options.keyId)) {
    throw configError(
      `the WeChat Pay public key id must be PUB_KEY_ID_… (账户中心 → API安全 → 微信支付公钥); got ${JSON.stringify(options.keyId.slice(0, 48))}`,
    );
  }
  const key =
    typeof options.publicKey === 'string' || Buffer.isBuffer(options.publicKey)
      ? loadPublicKey(options.publicKey, 'the WeChat Pay public key')
      : options.publicKey;
  const { keyId } = options;
  const verification: Verification = { mode: 'public_key', serial: keyId };
  return {
    keyId,
    keyIds: [keyId],
    verify(serial, message, signature) {
      if (serial !== keyId) return Promise.reject(unknownSerial(serial, `the public key ${keyId}`));
      if (!rsaVerify(key, message, signature)) return Promise.reject(badSignature(serial));
      return Promise.resolve(verification);
    },
  };
}

/**
 * Several WeChat Pay public keys, each for its id: the current one and the next one a
 * replacement brings (docs/wechat-rules.md, "WeChat Pay public key replaced"), so that messages
 * signed by either verify while WeChat moves from one to the other.
 */
export function publicKeysVerifier(keys: readonly PublicKeysVerifier[]): PublicKeysVerifier {
  const byId = new Map(keys.flatMap((k) => k.keyIds.map((id) => [id, k] as const)));
  if (byId.size === 0) throw configError('at least one WeChat Pay public key is needed');
  const keyIds = [...byId.keys()];
  return {
    keyId: keyIds[0]!,
    keyIds,
    verify(serial, message, signature) {
      const key = byId.get(serial);
      if (!key) {
        return Promise.reject(unknownSerial(serial, `the public keys ${keyIds.join(', ')}`));
      }
      return key.verify(serial, message, signature);
    },
  };
}

/**
 * Both modes at once (WeChat's switch from platform certificates to the public key, during
 * which it may sign with either): the public key for its id, the certificates for the rest.
 */
export function bothVerifier(publicKey: PublicKeysVerifier, certificates: Verifier): Verifier {
  return {
    verify: (serial, message, signature) =>
      publicKey.keyIds.includes(serial)
        ? publicKey.verify(serial, message, signature)
        : certificates.verify(serial, message, signature),
  };
}

export function unknownSerial(serial: string, known: string) {
  return invalid(
    'UNKNOWN_SERIAL',
    `Wechatpay-Serial ${serial} names no key this merchant verifies with (it has ${known}): a platform certificate not downloaded yet, a public key id mistyped, or not from WeChat`,
    { settings: PLATFORM_KEY },
  );
}

/** Headers as Node, undici and Fastify give them (names in lower case), or a fetch `Headers`. */
export type HeaderBag =
  | Readonly<Record<string, string | string[] | undefined>>
  | { get(name: string): string | null };

export interface SignedMessage {
  headers: HeaderBag;
  /** The raw body, exactly as received. */
  body: string | Buffer;
}

export interface VerifyOptions {
  verifier: Verifier;
  /** Milliseconds since the epoch; default `Date.now`. */
  now?: () => number;
  /** Default 300: WeChat's 5 minutes. */
  toleranceSeconds?: number;
  /** Named in error messages, e.g. `the payment notification`. */
  what?: string;
}

/**
 * Checks the `Wechatpay-*` headers and the signature of `message`; resolves which key verified.
 * `what` names the message in errors.
 */
export async function verifySignedMessage(
  message: SignedMessage,
  options: VerifyOptions,
  what = options.what ?? 'the message',
): Promise<Verification> {
  const { body } = message;
  if (typeof body !== 'string' && !Buffer.isBuffer(body)) {
    throw new TypeError(
      `${what}: pass the raw body (a Buffer or string) exactly as received; a parsed JSON object cannot be verified, re-serialising changes its bytes`,
    );
  }
  const timestamp = header(message.headers, 'wechatpay-timestamp', what);
  const nonce = header(message.headers, 'wechatpay-nonce', what);
  const signature = header(message.headers, 'wechatpay-signature', what);
  const serial = header(message.headers, 'wechatpay-serial', what);
  const type = optionalHeader(message.headers, 'wechatpay-signature-type', what);
  if (type !== undefined && type !== SIGNATURE_TYPE) {
    throw invalid(
      'UNSUPPORTED_SIGNATURE_TYPE',
      `${what}: Wechatpay-Signature-Type is ${type}, not ${SIGNATURE_TYPE}`,
    );
  }
  checkTimestamp(timestamp, options, what);
  if (signature.startsWith(SIGN_PROBE_PREFIX)) {
    throw invalid(
      'SIGN_PROBE',
      `${what}: a WeChat signature probe (${SIGN_PROBE_PREFIX}…): refused, as WeChat expects of a merchant that verifies`,
    );
  }
  return options.verifier.verify(serial, wechatpayMessage(timestamp, nonce, body), signature);
}

export interface VerifyAuthorizationInput {
  /** The request's `Authorization` header. */
  header: string | undefined;
  method: string;
  /** Path and query as received (`req.url`). */
  url: string;
  /** The raw body as received ('' for GET). */
  body: string | Buffer;
  /** The merchant's public key for the serial its header names, or undefined when unknown. */
  publicKeyFor: (mchId: string, serialNo: string) => KeyObject | undefined;
  now?: () => number;
  /** Default 300. WeChat's own tolerance of request timestamps is not documented. */
  toleranceSeconds?: number;
}

/**
 * Checks a merchant's signed request as WeChat does (for a simulator): the Authorization
 * header, its timestamp window, and the signature with the key of its mchid and serial_no.
 * Returns the parsed header; throws `invalid` (`MISSING_AUTHORIZATION`, `BAD_AUTHORIZATION`,
 * `BAD_TIMESTAMP`, `STALE_TIMESTAMP`, `UNKNOWN_SERIAL`, `BAD_SIGNATURE`): WeChat answers all
 * of them 401 SIGN_ERROR.
 */
export function verifyAuthorization(input: VerifyAuthorizationInput): ParsedAuthorization {
  const auth = parseAuthorization(input.header);
  const what = 'the request';
  checkTimestamp(auth.timestamp, input, what);
  const key = input.publicKeyFor(auth.mchId, auth.serialNo);
  if (!key) {
    throw invalid(
      'UNKNOWN_SERIAL',
      `${what}: no key for mchid ${auth.mchId}, serial_no ${auth.serialNo}`,
    );
  }
  const head = Buffer.from(`${input.method}\n${input.url}\n${auth.timestamp}\n${auth.nonce}\n`);
  const body = typeof input.body === 'string' ? Buffer.from(input.body) : input.body;
  const message = Buffer.concat([head, body, Buffer.from('\n')]);
  if (!rsaVerify(key, message, auth.signature)) {
    throw invalid(
      'BAD_SIGNATURE',
      `${what}: the signature does not verify with the key of serial_no ${auth.serialNo} (the method, path, query or body differ from what was signed, or another key signed)`,
    );
  }
  return auth;
}

function checkTimestamp(
  timestamp: string,
  options: { now?: () => number; toleranceSeconds?: number },
  what: string,
): void {
  if (!/^[0-9]{1,12}$/.test(timestamp)) {
    throw invalid('BAD_TIMESTAMP', `${what}: Wechatpay-Timestamp is not Unix seconds`);
  }
  const tolerance = options.toleranceSeconds ?? 300;
  const skew = Number(timestamp) - (options.now ?? Date.now)() / 1000;
  if (Math.abs(skew) >= tolerance) {
    const minutes = Math.round(Math.abs(skew) / 60);
    throw invalid(
      'STALE_TIMESTAMP',
      `${what}: Wechatpay-Timestamp is ${minutes} min ${skew < 0 ? 'old' : 'ahead'}; WeChat's window is ${tolerance} s (a replay, or this machine's clock is wrong: check NTP)`,
    );
  }
}

function rawHeader(headers: HeaderBag, name: string): string | string[] | undefined {
  if (typeof (headers as { get?: unknown }).get === 'function') {
    return (headers as { get(name: string): string | null }).get(name) ?? undefined;
  }
  return (headers as Readonly<Record<string, string | string[] | undefined>>)[name];
}

function optionalHeader(headers: HeaderBag, name: string, what: string): string | undefined {
  const value = rawHeader(headers, name);
  if (Array.isArray(value)) {
    if (value.length > 1) throw duplicate(name, what);
    return value[0];
  }
  // Node and fetch join a repeated header with ", "; none of these values holds a comma.
  if (value?.includes(',')) throw duplicate(name, what);
  return value;
}

function header(headers: HeaderBag, name: string, what: string): string {
  const value = optionalHeader(headers, name, what);
  if (!value) throw invalid('MISSING_HEADER', `${what} has no ${displayName(name)} header`);
  return value;
}

function duplicate(name: string, what: string) {
  return invalid(
    'DUPLICATE_HEADER',
    `${what} has ${displayName(name)} more than once (or a value with a comma): refused, one of them would be unchecked`,
  );
}

function displayName(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());
}

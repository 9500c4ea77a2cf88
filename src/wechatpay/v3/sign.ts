/**
 * APIv3 signatures (签名生成 https://pay.weixin.qq.com/doc/v3/merchant/4012365336): SHA256 with
 * RSA (PKCS#1 v1.5), base64.
 *
 * - A merchant request signs `METHOD\nURL\nTIMESTAMP\nNONCE\nBODY\n` (URL = path and query as
 *   sent; BODY empty for GET) and sends `Authorization: WECHATPAY2-SHA256-RSA2048
 *   mchid="…",nonce_str="…",timestamp="…",serial_no="…",signature="…"`.
 * - WeChat signs each answer and notification over `TIMESTAMP\nNONCE\nBODY\n` and sends the
 *   `Wechatpay-Timestamp`, `-Nonce`, `-Signature`, `-Serial` headers (verify.ts checks them).
 * - `wx.requestPayment` signs `appId\ntimeStamp\nnonceStr\npackage\n` (request-payment.ts).
 *
 * A `Signer` is one method, as in wechatpay-go's `core/auth`: the merchant's signs requests, a
 * simulator's platform signer signs answers and notifications. The official vectors are in
 * docs/wechat-rules.md and test/wechatpay/v3/sign.test.ts.
 */
import { type KeyObject, sign, type X509Certificate } from 'node:crypto';
import { nonce as randomNonce, unixSeconds } from '../ids.js';
import { invalid } from './errors.js';
import { checkMerchantCertificate, checkSerial, loadCertificate, loadPrivateKey } from './keys.js';

export const SIGNATURE_TYPE = 'WECHATPAY2-SHA256-RSA2048';

export interface Signature {
  /** The serial of the key that signed (a certificate serial, or a `PUB_KEY_ID_…`). */
  serialNo: string;
  /** Base64. */
  signature: string;
}

/** Signs a message (wechatpay-go `auth.Signer`). */
export interface Signer {
  sign(message: string | Buffer): Signature;
}

export interface RsaSignerOptions {
  /** PEM (PKCS#8 or PKCS#1) or a loaded key. */
  privateKey: string | Buffer | KeyObject;
  /** The serial that names the key to the verifier. */
  serialNo: string;
  /** The key's certificate (PEM or loaded): when given, key and serial are checked against it. */
  certificate?: string | Buffer | X509Certificate;
}

/** An RSA signer; throws a `config` error when the key, serial and certificate disagree. */
export function createRsaSigner(options: RsaSignerOptions): Signer {
  const key =
    typeof options.privateKey === 'string' || Buffer.isBuffer(options.privateKey)
      ? loadPrivateKey(options.privateKey)
      : options.privateKey;
  const serialNo = checkSerial(options.serialNo, 'the certificate serial');
  if (options.certificate !== undefined) {
    const cert =
      typeof options.certificate === 'string' || Buffer.isBuffer(options.certificate)
        ? loadCertificate(options.certificate, 'the merchant certificate (apiclient_cert.pem)')
        : options.certificate;
    checkMerchantCertificate(key, cert, serialNo);
  }
  return {
    sign: (message) => ({
      serialNo,
      signature: sign('sha256', bytes(message), key).toString('base64'),
    }),
  };
}

function bytes(message: string | Buffer): Buffer {
  return typeof message === 'string' ? Buffer.from(message, 'utf8') : message;
}

/** `METHOD\nURL\nTIMESTAMP\nNONCE\nBODY\n`, the string a merchant request signs. */
export function requestMessage(
  method: string,
  url: string,
  timestamp: string,
  nonce: string,
  body: string,
): string {
  return `${method}\n${url}\n${timestamp}\n${nonce}\n${body}\n`;
}

export interface AuthorizationInput {
  mchId: string;
  method: string;
  /** Path and query exactly as sent, e.g. `/v3/pay/transactions/id/42?mchid=1900000109`. */
  url: string;
  /** The body exactly as sent; '' for GET. */
  body: string;
  timestamp?: string;
  nonce?: string;
}

/** The `Authorization` header value of a merchant request. */
export function buildAuthorization(signer: Signer, input: AuthorizationInput): string {
  const timestamp = input.timestamp ?? unixSeconds();
  const nonce = input.nonce ?? randomNonce();
  const { serialNo, signature } = signer.sign(
    requestMessage(input.method, input.url, timestamp, nonce, input.body),
  );
  return `${SIGNATURE_TYPE} mchid="${input.mchId}",nonce_str="${nonce}",timestamp="${timestamp}",serial_no="${serialNo}",signature="${signature}"`;
}

export interface ParsedAuthorization {
  mchId: string;
  nonce: string;
  timestamp: string;
  serialNo: string;
  signature: string;
}

const AUTH_PARAMS = ['mchid', 'nonce_str', 'timestamp', 'serial_no', 'signature'] as const;

/**
 * Reads an `Authorization` header as WeChat does (what a simulator needs): the scheme, then
 * exactly the five `key="value"` pairs, in any order, each once.
 */
export function parseAuthorization(header: string | undefined): ParsedAuthorization {
  if (!header) throw invalid('MISSING_AUTHORIZATION', 'the request has no Authorization header');
  const prefix = `${SIGNATURE_TYPE} `;
  if (!header.startsWith(prefix)) {
    throw invalid('BAD_AUTHORIZATION', `the Authorization scheme must be ${SIGNATURE_TYPE}`);
  }
  const params = new Map<string, string>();
  for (const part of header.slice(prefix.length).split(',')) {
    const m = /^\s*([a-z_]+)="([^"]*)"\s*$/.exec(part);
    if (!m)
      throw invalid(
        'BAD_AUTHORIZATION',
        `Authorization has a malformed pair: ${part.slice(0, 40)}`,
      );
    if (params.has(m[1]!)) throw invalid('BAD_AUTHORIZATION', `Authorization names ${m[1]} twice`);
    params.set(m[1]!, m[2]!);
  }
  for (const name of AUTH_PARAMS) {
    if (!params.get(name)) throw invalid('BAD_AUTHORIZATION', `Authorization has no ${name}`);
  }
  if (params.size !== AUTH_PARAMS.length) {
    throw invalid(
      'BAD_AUTHORIZATION',
      `Authorization has pairs other than ${AUTH_PARAMS.join(', ')}`,
    );
  }
  return {
    mchId: params.get('mchid')!,
    nonce: params.get('nonce_str')!,
    timestamp: params.get('timestamp')!,
    serialNo: params.get('serial_no')!,
    signature: params.get('signature')!,
  };
}

/**
 * `TIMESTAMP\nNONCE\nBODY\n`, the bytes WeChat signs for an answer or a notification, written
 * into one buffer: joining a string body first would copy the whole body once more.
 */
export function wechatpayMessage(timestamp: string, nonce: string, body: string | Buffer): Buffer {
  const head = `${timestamp}\n${nonce}\n`;
  const headBytes = Buffer.byteLength(head);
  const bodyBytes = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  const out = Buffer.allocUnsafe(headBytes + bodyBytes + 1);
  out.write(head, 0);
  if (typeof body === 'string') out.write(body, headBytes);
  else body.copy(out, headBytes);
  out[headBytes + bodyBytes] = 0x0a;
  return out;
}

/** The headers WeChat puts on a signed answer or notification. */
export interface WechatpayHeaders {
  'Wechatpay-Timestamp': string;
  'Wechatpay-Nonce': string;
  'Wechatpay-Signature': string;
  'Wechatpay-Serial': string;
  'Wechatpay-Signature-Type': string;
}

/** Signs `body` as WeChat does (the platform's `signer`): what a simulator sends with it. */
export function signWechatpayHeaders(
  signer: Signer,
  body: string | Buffer,
  options: { timestamp?: string; nonce?: string } = {},
): WechatpayHeaders {
  const timestamp = options.timestamp ?? unixSeconds();
  const nonce = options.nonce ?? randomNonce();
  const { serialNo, signature } = signer.sign(wechatpayMessage(timestamp, nonce, body));
  return {
    'Wechatpay-Timestamp': timestamp,
    'Wechatpay-Nonce': nonce,
    'Wechatpay-Signature': signature,
    'Wechatpay-Serial': serialNo,
    'Wechatpay-Signature-Type': SIGNATURE_TYPE,
  };
}

/**
 * The prefix of WeChat's signature probes: signatures that must fail verification, sent to
 * see that a merchant verifies (docs/wechat-rules.md, "Signature probes").
 */
export const SIGN_PROBE_PREFIX = 'WECHATPAY/SIGNTEST/';

/** A probe signature, as WeChat sends to test merchants. */
export function probeSignature(): string {
  return `${SIGN_PROBE_PREFIX}${randomNonce()}`;
}

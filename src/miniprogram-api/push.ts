/**
 * Message push (消息推送): WeChat calls the merchant's URL. Both sides are here: the merchant
 * reads (`verifyPushUrl` for the GET handshake, `readPush` for each POST) and the sandbox,
 * playing WeChat, writes (`pushUrlCheck`, `buildPush`).
 *
 * Reading a POST, in this order, each step refusing with `MiniProgramApiError('invalid')`:
 * query parameters (single, well-formed) → body size → with an EncodingAESKey configured,
 * only an encrypted push: the envelope (JSON or XML, the hardened reader) → `msg_signature`
 * over token, timestamp, nonce and `Encrypt` → decrypt, padding and AppID checked → the
 * message; without a key, only a plain push, `signature` over token, timestamp and nonce.
 * The plain `signature` does not cover the body, so plain mode authenticates nothing but the
 * sender's knowledge of the token: use safe mode (docs/miniprogram-api.md).
 *
 * Replays: WeChat may deliver a push more than once, and a captured push can be sent again.
 * `timestamp` and `nonce` are returned; the app decides how old a push may be and keeps
 * what it has seen.
 */
import { decodeXml, encodeXml, XmlError } from '../wechatpay/xml.js';
import { MiniProgramApiError } from './errors.js';
import {
  aesKeyOf,
  decryptPushMessage,
  encryptPushMessage,
  pushSignature,
  signatureMatches,
} from './push-crypto.js';
import { type PushEvent, type PushFields, toPushEvent } from './push-events.js';

export type PushFormat = 'json' | 'xml';

export interface PushConfig {
  /** The Token of the push configuration (3..32 letters and digits). */
  token: string;
  appId: string;
  /** With it, only encrypted pushes (safe or compatible mode) are accepted. */
  encodingAesKey?: string;
  /** The data format chosen in the push configuration. */
  format: PushFormat;
  /** Largest body accepted. Default 64 KiB. */
  maxBytes?: number;
}

/** A query as a server hands it over: a repeated parameter is an array. */
export type PushQuery = Readonly<Record<string, string | readonly string[] | undefined>>;

export interface VerifiedPush {
  /** WeChat's `timestamp`, seconds: the app decides how old a push may be. */
  timestamp: number;
  nonce: string;
  /** The `openid` query parameter, when WeChat sent one. */
  openid?: string;
  /** Whether it came encrypted (and so its body is authenticated). */
  encrypted: boolean;
  /** The message text (decrypted), for the record. */
  message: string;
  fields: PushFields;
  event: PushEvent;
}

/** What to answer a push that was read: WeChat needs `success` (or an empty body). */
export const PUSH_ACK = 'success';

export const PUSH_MAX_BYTES = 64 * 1024;

/** Throws `config` when the push configuration cannot work. */
export function checkPushConfig(config: PushConfig): void {
  if (!/^[A-Za-z0-9]{3,32}$/.test(config.token)) {
    throw new MiniProgramApiError(
      'config',
      'BAD_PUSH_TOKEN',
      'the push Token must be 3..32 letters and digits, as in the mini program admin (开发管理 → 消息推送)',
    );
  }
  if (config.encodingAesKey !== undefined) aesKeyOf(config.encodingAesKey);
  if (config.format !== 'json' && config.format !== 'xml') {
    throw new MiniProgramApiError('config', 'BAD_PUSH_FORMAT', 'the push format is json or xml');
  }
}

/** The URL check (GET): returns the `echostr` to answer when the signature verifies. */
export function verifyPushUrl(query: PushQuery, config: Pick<PushConfig, 'token'>): string {
  const { timestamp, nonce } = stampOf(query);
  const signature = param(query, 'signature', SIGNATURE, true);
  const echostr = param(query, 'echostr', ECHOSTR, true);
  if (!signatureMatches(signature.toLowerCase(), pushSignature(config.token, timestamp, nonce))) {
    throw invalid('BAD_SIGNATURE', 'the signature does not verify with the push Token');
  }
  return echostr;
}

/** Verifies, decrypts and types one push (POST); throws `MiniProgramApiError`. */
export function readPush(
  query: PushQuery,
  body: Buffer | string,
  config: PushConfig,
): VerifiedPush {
  const { timestamp, nonce } = stampOf(query);
  const openid = param(query, 'openid', OPENID, false);
  const encryptType = param(query, 'encrypt_type', /^(aes|raw)$/, false);
  const maxBytes = config.maxBytes ?? PUSH_MAX_BYTES;
  const size = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  if (size > maxBytes) throw invalid('TOO_LARGE', `the body is larger than ${maxBytes} bytes`);
  const message = config.encodingAesKey
    ? openEncrypted(query, body, timestamp, nonce, encryptType, config)
    : openPlain(query, body, timestamp, nonce, encryptType, config);
  const fields = parseMessage(message.text, config.format, 'the message');
  return {
    timestamp: Number(timestamp),
    nonce,
    openid,
    encrypted: message.encrypted,
    message: message.text,
    fields,
    event: toPushEvent(fields),
  };
}

function openEncrypted(
  query: PushQuery,
  body: Buffer | string,
  timestamp: string,
  nonce: string,
  encryptType: string | undefined,
  config: PushConfig,
): { text: string; encrypted: true } {
  if (encryptType !== 'aes') {
    throw invalid(
      'NOT_ENCRYPTED',
      'the push is not encrypted (no encrypt_type=aes) but an EncodingAESKey is configured: plain pushes are refused',
    );
  }
  const msgSignature = param(query, 'msg_signature', SIGNATURE, true);
  const envelope = parseMessage(textOf(body), config.format, 'the envelope');
  const encrypt = envelope.Encrypt;
  if (typeof encrypt !== 'string' || encrypt === '') {
    throw invalid('MALFORMED_MESSAGE', 'the envelope has no Encrypt');
  }
  const expected = pushSignature(config.token, timestamp, nonce, encrypt);
  if (!signatureMatches(msgSignature.toLowerCase(), expected)) {
    throw invalid('BAD_SIGNATURE', 'msg_signature does not verify with the push Token');
  }
  const text = decryptPushMessage(encrypt, {
    encodingAesKey: config.encodingAesKey!,
    appId: config.appId,
  });
  return { text, encrypted: true };
}

function openPlain(
  query: PushQuery,
  body: Buffer | string,
  timestamp: string,
  nonce: string,
  encryptType: string | undefined,
  config: PushConfig,
): { text: string; encrypted: false } {
  if (encryptType === 'aes') {
    throw new MiniProgramApiError(
      'config',
      'NO_ENCODING_AES_KEY',
      'message push: the push is encrypted but no EncodingAESKey is configured',
    );
  }
  const signature = param(query, 'signature', SIGNATURE, true);
  if (!signatureMatches(signature.toLowerCase(), pushSignature(config.token, timestamp, nonce))) {
    throw invalid('BAD_SIGNATURE', 'the signature does not verify with the push Token');
  }
  return { text: textOf(body), encrypted: false };
}

const SIGNATURE = /^[0-9a-fA-F]{40}$/;
const TIMESTAMP = /^\d{1,12}$/;
const NONCE = /^[A-Za-z0-9]{1,64}$/;
/** Echoed back in the answer, so nothing that could be markup. */
const ECHOSTR = /^[A-Za-z0-9]{1,128}$/;
const OPENID = /^[A-Za-z0-9_-]{1,128}$/;

function stampOf(query: PushQuery): { timestamp: string; nonce: string } {
  return {
    timestamp: param(query, 'timestamp', TIMESTAMP, true),
    nonce: param(query, 'nonce', NONCE, true),
  };
}

function param(query: PushQuery, name: string, pattern: RegExp, required: true): string;
function param(
  query: PushQuery,
  name: string,
  pattern: RegExp,
  required: false,
): string | undefined;
function param(
  query: PushQuery,
  name: string,
  pattern: RegExp,
  required: boolean,
): string | undefined {
  const value = Object.hasOwn(query, name) ? query[name] : undefined;
  if (value === undefined) {
    if (required) throw invalid('MISSING_PARAMETER', `the ${name} parameter is missing`);
    return undefined;
  }
  if (typeof value !== 'string') throw invalid('BAD_PARAMETER', `${name} is given more than once`);
  if (!pattern.test(value)) throw invalid('BAD_PARAMETER', `${name} is malformed`);
  return value;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function textOf(body: Buffer | string): string {
  if (typeof body === 'string') return body;
  try {
    return utf8.decode(body);
  } catch {
    throw invalid('NOT_UTF8', 'the body is not UTF-8');
  }
}

/** A message or envelope in the configured format: a JSON object, or flat XML. */
function parseMessage(text: string, format: PushFormat, what: string): PushFields {
  if (format === 'xml') {
    try {
      return decodeXml(text);
    } catch (err) {
      if (err instanceof XmlError) {
        throw invalid(`XML_${err.code}`, `${what} is not WeChat XML: ${err.message}`);
      }
      throw err;
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalid('MALFORMED_MESSAGE', `${what} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid('MALFORMED_MESSAGE', `${what} is not a JSON object`);
  }
  return value as PushFields;
}

function invalid(code: string, message: string): MiniProgramApiError {
  return new MiniProgramApiError('invalid', code, `message push: ${message}`);
}

// ---- The sending side (the sandbox playing WeChat) ----

/** The query of WeChat's URL check (GET) for `echostr`. */
export function pushUrlCheck(
  token: string,
  stamp: { timestamp: number; nonce: string; echostr: string },
): Record<string, string> {
  const timestamp = String(stamp.timestamp);
  return {
    signature: pushSignature(token, timestamp, stamp.nonce),
    echostr: stamp.echostr,
    timestamp,
    nonce: stamp.nonce,
  };
}

export interface BuildPushOptions extends Omit<PushConfig, 'maxBytes'> {
  timestamp: number;
  nonce: string;
  /** The user the push concerns; WeChat adds it to the query. */
  openid?: string;
  /** 16 bytes for the cipher; fresh random bytes when absent. */
  random?: Buffer;
}

/**
 * A push as WeChat sends it: the query and the body for `message`, encrypted (safe mode) when
 * `encodingAesKey` is given. XML takes flat messages only (string and number values).
 */
export function buildPush(
  message: Readonly<Record<string, unknown>>,
  options: BuildPushOptions,
): { query: Record<string, string>; body: string; contentType: string } {
  const timestamp = String(options.timestamp);
  const text = serialise(message, options.format);
  const query: Record<string, string> = {
    signature: pushSignature(options.token, timestamp, options.nonce),
    timestamp,
    nonce: options.nonce,
  };
  if (options.openid) query.openid = options.openid;
  const contentType = options.format === 'xml' ? 'text/xml' : 'application/json';
  if (!options.encodingAesKey) return { query, body: text, contentType };
  const encrypt = encryptPushMessage(text, {
    encodingAesKey: options.encodingAesKey,
    appId: options.appId,
    random: options.random,
  });
  query.encrypt_type = 'aes';
  query.msg_signature = pushSignature(options.token, timestamp, options.nonce, encrypt);
  const envelope = { ToUserName: message.ToUserName, Encrypt: encrypt };
  return { query, body: serialise(envelope, options.format), contentType };
}

function serialise(message: Readonly<Record<string, unknown>>, format: PushFormat): string {
  if (format === 'json') return JSON.stringify(message);
  const flat: Record<string, string | number | undefined> = {};
  for (const [name, value] of Object.entries(message)) {
    if (value !== undefined && typeof value !== 'string' && typeof value !== 'number') {
      throw new TypeError(`XML pushes are flat: ${name} is not a string or a number`);
    }
    flat[name] = value;
  }
  return encodeXml(flat);
}

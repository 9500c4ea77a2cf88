/**
 * One JSON exchange with api.weixin.qq.com (or a sandbox in its place), over the protocol
 * layer's hardened HTTP exchange (src/wechatpay/http.ts: a deadline over the whole exchange, a
 * byte cap on the answer). What comes back is checked before anything reads it: HTTP status,
 * JSON, an object, `errcode` a number; a non-zero errcode becomes a `MiniProgramApiError`.
 * The access_token travels in the query string and never appears in an error message.
 */
import type { Dispatcher } from 'undici';
import { DomainFailover, type FailoverEvent } from '../wechatpay/domain-failover.js';
import { WechatPayError } from '../wechatpay/errors.js';
import { exchange } from '../wechatpay/http.js';
import { errcodeError, MiniProgramApiError } from './errors.js';

export const DEFAULT_BASE_URL = 'https://api.weixin.qq.com';
/** Answers are small JSON objects; the courier list (get_delivery_list) is the largest. */
export const DEFAULT_MAX_ANSWER_BYTES = 64 * 1024;

export interface TransportOptions {
  /** Default https://api.weixin.qq.com (a sandbox URL in tests and demo mode). */
  baseUrl?: string;
  /**
   * WeChat's disaster-recovery domain (https://api2.weixin.qq.com): a call whose exchange is
   * lost or answered 5xx goes there once, and it stays first for a while.
   */
  backupBaseUrl?: string;
  /** Called when a call moved to the other domain (a metric). */
  onFailover?: (event: FailoverEvent) => void;
  /** Deadline of one HTTP exchange. Default 5,000 ms. */
  timeoutMs?: number;
  dispatcher?: Dispatcher;
  /** The clock, for the retry-after of daily quotas. Default `Date.now`. */
  now?: () => number;
}

export interface JsonCall {
  /** The API path, e.g. `/wxa/sec/order/upload_shipping_info`. */
  path: string;
  body: unknown;
  /** The access_token, sent as `?access_token=`. */
  accessToken?: string;
  /** Largest answer accepted. Default 64 KiB. */
  maxBytes?: number;
}

export type JsonObject = Record<string, unknown>;

export class Transport {
  readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly dispatcher: Dispatcher | undefined;
  private readonly failover: DomainFailover;
  readonly now: () => number;

  constructor(options: TransportOptions = {}) {
    this.baseUrl = checkBaseUrl(options.baseUrl ?? DEFAULT_BASE_URL);
    const backup =
      options.backupBaseUrl === undefined ? undefined : checkBaseUrl(options.backupBaseUrl);
    this.failover = new DomainFailover(this.baseUrl, backup, undefined, options.onFailover);
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.dispatcher = options.dispatcher;
    this.now = options.now ?? Date.now;
  }

  /** POSTs `body` as JSON; returns the answer object when its errcode is absent or 0. */
  async post(call: JsonCall): Promise<JsonObject> {
    const query = call.accessToken ? `?access_token=${encodeURIComponent(call.accessToken)}` : '';
    let res: Awaited<ReturnType<typeof exchange>>;
    try {
      res = await this.failover.send(call.path, (base) =>
        exchange({
          method: 'POST',
          url: `${base}${call.path}${query}`,
          body: JSON.stringify(call.body),
          headers: { 'content-type': 'application/json; charset=utf-8' },
          timeoutMs: this.timeoutMs,
          maxBytes: call.maxBytes ?? DEFAULT_MAX_ANSWER_BYTES,
          dispatcher: this.dispatcher,
          what: call.path,
        }),
      );
    } catch (err) {
      throw fromExchangeError(err);
    }
    if (res.status !== 200) throw statusError(call.path, res.status);
    const json = parseObject(call.path, res.body);
    const errcode = json.errcode;
    if (errcode === undefined || errcode === 0) return json;
    if (typeof errcode !== 'number' || !Number.isSafeInteger(errcode)) {
      throw invalidAnswer(call.path, 'errcode is not an integer');
    }
    const errmsg = typeof json.errmsg === 'string' ? json.errmsg : '';
    throw errcodeError(call.path, errcode, errmsg, this.now());
  }
}

function checkBaseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new TypeError(`baseUrl is not a URL: ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new TypeError('baseUrl must be http(s)');
  }
  if (url.search || url.hash || url.username || url.password) {
    throw new TypeError('baseUrl takes no query, fragment or credentials');
  }
  return raw.replace(/\/+$/, '');
}

function fromExchangeError(err: unknown): unknown {
  if (!(err instanceof WechatPayError)) return err;
  const kind = err.kind === 'ambiguous' ? 'retryable' : 'invalid';
  return new MiniProgramApiError(kind, err.code, redact(err.message), { cause: err });
}

/** Removes an access_token from text that may have quoted a URL. */
export function redact(text: string): string {
  return text.replace(/access_token=[^&\s"']*/g, 'access_token=[redacted]');
}

function statusError(path: string, status: number): MiniProgramApiError {
  if (status >= 500 || status === 429) {
    return new MiniProgramApiError('retryable', `HTTP_${status}`, `${path}: HTTP ${status}; retry`);
  }
  return new MiniProgramApiError(
    'config',
    `HTTP_${status}`,
    `${path}: HTTP ${status}; WeChat answers every call with 200: check the base URL and any proxy in between`,
  );
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function parseObject(path: string, body: Buffer): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(body));
  } catch (err) {
    throw invalidAnswer(path, 'the answer is not JSON', err);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidAnswer(path, 'the answer is not a JSON object');
  }
  return value as JsonObject;
}

export function invalidAnswer(path: string, what: string, cause?: unknown): MiniProgramApiError {
  return new MiniProgramApiError('invalid', 'MALFORMED_RESPONSE', `${path}: ${what}; refused`, {
    cause,
  });
}

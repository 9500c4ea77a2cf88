/**
 * The APIv3 client: one generic signed request, as wechatpay-go's `core.Client`; the products
 * (transactions.ts, refunds.ts, bills.ts, certificates.ts) are thin functions on it.
 *
 * - Each request is signed (`Authorization: WECHATPAY2-SHA256-RSA2048 …`) by the `Signer`, and
 *   sends `Accept: application/json`, a `User-Agent` (WeChat requires one) and the JSON body.
 * - Every answer is verified by the `Verifier` (verify.ts) before any field is read: a 2xx that
 *   does not verify is `invalid`. An error answer (`{code, message, detail}`) that carries a
 *   signature must verify too; one that carries none is still classified by its code (WeChat's
 *   SDKs do not verify error answers) and marked `verified: false` (errors.ts).
 * - Bill files (`download`) are the one unsigned answer: bills.ts checks them by their SHA1.
 * - Transport: the v2 client's `exchange` (undici): a deadline over the whole exchange, a size
 *   cap, transport failures as `ambiguous`. Failover to `backupBaseUrl` and retries of read-only
 *   calls follow the v2 client's rules (docs/wechatpay.md, "Retries and timeouts").
 */
import { Agent, type Dispatcher } from 'undici';
import { DomainFailover, type FailoverEvent } from '../domain-failover.js';
import { WechatPayError } from '../errors.js';
import { exchange, type HttpExchange, openExchange } from '../http.js';
import { type Advice, configError, errorFromAnswer, invalid } from './errors.js';
import { type Json, parseJsonObject } from './fields.js';
import { buildAuthorization, type Signer } from './sign.js';
import {
  type SignedMessage,
  type Verification,
  type Verifier,
  verifySignedMessage,
} from './verify.js';

/** One request moved to the other domain (domain-failover.ts). */
export type V3FailoverEvent = FailoverEvent;

export interface WechatPayV3ClientOptions {
  mchId: string;
  /** Signs requests with the merchant API private key (`createRsaSigner`). */
  signer: Signer;
  /** Verifies answers: `publicKeyVerifier`, a `CertificateVerifier`, or `bothVerifier`. */
  verifier: Verifier;
  /** Default https://api.mch.weixin.qq.com */
  baseUrl?: string;
  /** WeChat's backup domain (https://api2.mch.weixin.qq.com); none when absent. */
  backupBaseUrl?: string;
  /** After a failover the backup is tried first for this long. Default 180,000 ms. */
  failoverHoldMs?: number;
  onFailover?: (event: V3FailoverEvent) => void;
  /** Each verified answer: which key verified it (metrics). */
  onVerified?: (event: { what: string; verification: Verification }) => void;
  /** Deadline of one HTTP exchange, default 10,000 ms. */
  timeoutMs?: number;
  /** Retries of read-only calls. Default 2 more attempts, 200 ms then 400 ms apart. */
  retry?: { attempts?: number; delayMs?: number };
  /** Largest bill file accepted, compressed and after gunzip. Default 32 MiB. */
  maxBillBytes?: number;
  /** Trust this CA (a private sandbox over HTTPS). */
  ca?: string | Buffer;
  /** Default `minipay (Node.js vX)`. */
  userAgent?: string;
  /** Milliseconds since the epoch, for the 5-minute window; default `Date.now`. */
  now?: () => number;
}

export interface V3Request {
  method: 'GET' | 'POST';
  /** Path and query exactly as sent, e.g. `/v3/pay/transactions/id/42?mchid=1900000109`. */
  path: string;
  body?: Json;
  /** Retry ambiguous failures (only for calls that change nothing). */
  retry?: boolean;
  /** Verifies a 2xx answer instead of the client's verifier (the certificates download). */
  verify?: (message: SignedMessage) => Promise<Verification>;
  /**
   * Verifies a signed error answer instead of the client's verifier; `'unverifiable'` treats it
   * as unsigned (the certificates download in certificate mode has no key to check it with).
   */
  verifyError?: ((message: SignedMessage) => Promise<Verification>) | 'unverifiable';
  /** Error codes that mean something else at this endpoint (errors.ts). */
  errorCodes?: Readonly<Record<string, Advice>>;
}

export interface V3Answer {
  status: number;
  /** The verified JSON body; undefined for 204. */
  json: Json | undefined;
  requestId: string | undefined;
  verification: Verification;
}

const DEFAULT_BASE_URL = 'https://api.mch.weixin.qq.com';
const JSON_MAX_BYTES = 64 * 1024;
const MAX_BILL_BYTES = 32 * 1024 * 1024;

export class WechatPayV3Client {
  readonly mchId: string;
  readonly now: () => number;
  readonly maxBillBytes: number;
  private readonly signer: Signer;
  private readonly verifier: Verifier;
  private readonly baseUrl: string;
  private readonly backupBaseUrl: string | undefined;
  private readonly domains: DomainFailover;
  private readonly timeoutMs: number;
  private readonly attempts: number;
  private readonly delayMs: number;
  private readonly userAgent: string;
  private readonly dispatcher: Dispatcher | undefined;

  constructor(private readonly options: WechatPayV3ClientOptions) {
    if (!/^[0-9]{1,32}$/.test(options.mchId ?? '')) {
      throw configError('mchId must be the digits of the WeChat Pay merchant number');
    }
    if (typeof options.signer?.sign !== 'function') throw configError('a signer is required');
    if (typeof options.verifier?.verify !== 'function') throw configError('a verifier is required');
    this.mchId = options.mchId;
    this.signer = options.signer;
    this.verifier = options.verifier;
    this.now = options.now ?? Date.now;
    this.baseUrl = (options.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
    this.backupBaseUrl = options.backupBaseUrl?.replace(/\/+$/, '') || undefined;
    if (this.backupBaseUrl === this.baseUrl) {
      throw configError(
        'backupBaseUrl must differ from baseUrl (WeChat: https://api2.mch.weixin.qq.com)',
      );
    }
    this.domains = new DomainFailover(
      this.baseUrl,
      this.backupBaseUrl,
      options.failoverHoldMs,
      options.onFailover,
    );
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.attempts = 1 + (options.retry?.attempts ?? 2);
    this.delayMs = options.retry?.delayMs ?? 200;
    this.maxBillBytes = options.maxBillBytes ?? MAX_BILL_BYTES;
    this.userAgent = options.userAgent ?? `minipay (Node.js ${process.version})`;
    this.dispatcher = options.ca ? new Agent({ connect: { ca: options.ca } }) : undefined;
  }

  async close(): Promise<void> {
    await this.dispatcher?.close();
  }

  /** Whether the base URL is WeChat's own (which requires https notify URLs). */
  talksToWechat(): boolean {
    return /(^|\.)(weixin\.qq\.com|wechatpay\.cn)$/.test(new URL(this.baseUrl).hostname);
  }

  /** One signed request; the answer verified, or a typed error. */
  async request(call: V3Request): Promise<V3Answer> {
    // Signed as it travels: the path and query as a URL parser writes them.
    const url = new URL(call.path, 'http://canonical');
    const path = url.pathname + url.search;
    const what = `${call.method} ${url.pathname}`;
    const body = call.body === undefined ? '' : JSON.stringify(call.body);
    return this.withRetry(call.retry === true, async () => {
      const res = await this.send(call.method, path, body, what);
      return this.read(res, call, what);
    });
  }

  /**
   * A signed GET of a bill file's `download_url`: the one answer WeChat does not sign (the
   * caller checks its hash). Only WeChat's hosts, or this client's base URLs, are accepted.
   */
  async download(downloadUrl: string): Promise<Buffer> {
    const { request, path, what } = this.downloadRequest(downloadUrl);
    return this.withRetry(true, async () => {
      const res = await exchange(request());
      if (res.status !== 200) await this.read(res, { method: 'GET', path }, what);
      return res.body;
    });
  }

  /**
   * `download`, the file's bytes handed on as they arrive (a bill can be hundreds of
   * megabytes): resolves once the answer's headers are in. A refusal (not 200) is read, at most
   * `ERROR_MAX_BYTES` of it, and thrown as `download`'s would be.
   */
  async downloadStream(downloadUrl: string): Promise<AsyncIterable<Buffer>> {
    const { request, path, what } = this.downloadRequest(downloadUrl);
    return this.withRetry(true, async () => {
      const res = await openExchange(request());
      if (res.status === 200) return res.body;
      const body = await firstBytes(res.body, ERROR_MAX_BYTES);
      res.discard();
      await this.read(
        { status: res.status, headers: res.headers, body },
        { method: 'GET', path },
        what,
      );
      throw invalid('MALFORMED', `${what}: answered ${res.status} without an error`);
    });
  }

  /** The signed GET of a download URL; `request()` signs anew for every try. */
  private downloadRequest(downloadUrl: string) {
    const url = this.downloadable(downloadUrl);
    const path = url.pathname + url.search;
    const what = `GET ${url.pathname}`;
    const request = () => ({
      method: 'GET' as const,
      url: url.href,
      headers: this.headers('GET', path, ''),
      timeoutMs: this.timeoutMs,
      maxBytes: this.maxBillBytes,
      dispatcher: this.dispatcher,
      what,
    });
    return { request, path, what };
  }

  private downloadable(downloadUrl: string): URL {
    let url: URL;
    try {
      url = new URL(downloadUrl);
    } catch {
      throw invalid('MALFORMED', `download_url is not a URL: ${downloadUrl.slice(0, 80)}`);
    }
    const ours = [this.baseUrl, this.backupBaseUrl].some(
      (b) => b && new URL(b).origin === url.origin,
    );
    const wechat =
      url.protocol === 'https:' && /(^|\.)(weixin\.qq\.com|wechatpay\.cn)$/.test(url.hostname);
    if (!ours && !wechat) {
      throw invalid(
        'MALFORMED',
        `download_url points at ${url.origin}, not WeChat Pay: not followed`,
      );
    }
    return url;
  }

  private headers(method: string, path: string, body: string): Record<string, string> {
    const headers: Record<string, string> = {
      authorization: buildAuthorization(this.signer, {
        mchId: this.mchId,
        method,
        url: path,
        body,
      }),
      accept: 'application/json',
      'user-agent': this.userAgent,
    };
    if (body) headers['content-type'] = 'application/json';
    return headers;
  }

  /** Sends to the preferred domain, then once to the other one when the exchange fails. */
  private async send(
    method: 'GET' | 'POST',
    path: string,
    body: string,
    what: string,
  ): Promise<HttpExchange> {
    const headers = this.headers(method, path, body);
    const send = (base: string) =>
      exchange({
        method,
        url: base + path,
        body: body || undefined,
        headers,
        timeoutMs: this.timeoutMs,
        maxBytes: JSON_MAX_BYTES,
        dispatcher: this.dispatcher,
        what,
      });
    return this.domains.send(path, send);
  }

  /** Verifies, then reads: a verified answer, or the error it says. */
  private async read(
    res: HttpExchange,
    call: Pick<V3Request, 'method' | 'path' | 'verify' | 'verifyError' | 'errorCodes'>,
    what: string,
  ): Promise<V3Answer> {
    const requestId = single(res.headers['request-id']);
    const message = { headers: res.headers, body: res.body };
    const ok = res.status >= 200 && res.status < 300;
    const ownVerify = (m: SignedMessage) =>
      verifySignedMessage(m, {
        verifier: this.verifier,
        now: this.now,
        what: `the ${what} answer`,
      });
    const verify = ok ? (call.verify ?? ownVerify) : (call.verifyError ?? ownVerify);
    const signed = res.headers['wechatpay-signature'] !== undefined && verify !== 'unverifiable';
    let verification: Verification | undefined;
    if (ok || signed) {
      try {
        verification = await (verify as (m: SignedMessage) => Promise<Verification>)(message);
      } catch (err) {
        if (err instanceof WechatPayError && requestId) err.message += ` [Request-ID ${requestId}]`;
        throw err;
      }
      this.options.onVerified?.({ what, verification });
    }
    if (!ok) {
      let json: Json | undefined;
      try {
        json = parseJsonObject(res.body, what);
      } catch {
        json = undefined;
      }
      throw errorFromAnswer(
        what,
        res.status,
        json,
        { requestId, verified: signed },
        call.errorCodes,
      );
    }
    const json =
      res.body.length === 0 ? undefined : parseJsonObject(res.body, `the ${what} answer`);
    return { status: res.status, json, requestId, verification: verification! };
  }

  private async withRetry<T>(retry: boolean, attempt: () => Promise<T>): Promise<T> {
    for (let i = 1; ; i++) {
      try {
        return await attempt();
      } catch (err) {
        const again = retry && i < this.attempts && err instanceof WechatPayError && err.retryable;
        if (!again) throw err;
        await new Promise((r) => setTimeout(r, this.delayMs * 2 ** (i - 1)));
      }
    }
  }
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Most bytes of a refused download's answer read for its error. */
const ERROR_MAX_BYTES = 64 * 1024;

/** The body's first `max` bytes at most (the rest is left unread). */
async function firstBytes(body: AsyncIterable<Buffer>, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= max) break;
  }
  return Buffer.concat(chunks).subarray(0, max);
}

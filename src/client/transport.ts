/**
 * Calls to the minipay server: JSON in and out, the session token (stored with the
 * platform's storage, renewed by one fresh login on a 401), and bounded retries with backoff
 * for network errors and busy answers. Every attempt rebuilds its request, so a retried login
 * asks the platform for a new code (a code works once) and a retried call after a re-login
 * carries the new token.
 */
import type { Session } from './api-types.js';
import { MinipayError, PlatformCallError } from './errors.js';
import type { HttpMethod, Platform, PlatformResponse } from './platform.js';
import { backoffMs, isRetryableStatus, type RetryPolicy } from './retry.js';

export interface TransportOptions {
  baseUrl: string;
  platform: Platform;
  retry: RetryPolicy;
  timeoutMs: number;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
}

export interface ApiCall {
  method: HttpMethod;
  /** Path and query under the base URL, e.g. `/api/v1/orders?limit=20`. */
  path: string;
  body?: unknown;
  header?: Record<string, string>;
  /** Send a local file instead of a JSON body (`wx.uploadFile`, POST). */
  upload?: { filePath: string; name: string };
}

/** Where the session lives in platform storage. */
export const SESSION_STORAGE_KEY = 'minipay.session';
/** Renew a session this long before the server says it expires. */
const EXPIRY_MARGIN_MS = 30_000;

interface StoredSession extends Session {
  baseUrl: string;
}

export class Transport {
  private loggingIn: Promise<Session> | undefined;

  constructor(private readonly options: TransportOptions) {}

  /** Logs in now with a fresh `wx.login` code and stores the session. */
  login(): Promise<Session> {
    this.loggingIn ??= this.freshLogin().finally(() => {
      this.loggingIn = undefined;
    });
    return this.loggingIn;
  }

  /**
   * Ends the session on the server (its token stops working at once), then forgets it here.
   * The local session is forgotten even when the server cannot be reached: the token then
   * lapses at its expiry.
   */
  async logout(): Promise<void> {
    const token = this.session()?.token;
    this.forget();
    if (!token) return;
    try {
      await this.send({
        method: 'POST',
        path: '/api/v1/logout',
        header: { Authorization: `Bearer ${token}` },
      });
    } catch (err) {
      if (!(err instanceof PlatformCallError)) throw err;
    }
  }

  /** Forgets the stored session without telling the server. */
  forget(): void {
    this.options.platform.storage.remove(SESSION_STORAGE_KEY);
  }

  /** The stored session for this server, if it is still valid. */
  session(): Session | undefined {
    const raw = this.options.platform.storage.get(SESSION_STORAGE_KEY);
    if (!raw) return undefined;
    try {
      const stored = JSON.parse(raw) as StoredSession;
      if (stored.baseUrl !== this.options.baseUrl || typeof stored.token !== 'string') return;
      if (Date.parse(stored.expiresAt) - EXPIRY_MARGIN_MS <= Date.now()) return undefined;
      return { token: stored.token, expiresAt: stored.expiresAt, user: stored.user };
    } catch {
      return undefined;
    }
  }

  /** A call without a session (products). */
  anonymous<T>(call: ApiCall): Promise<T> {
    return this.withRetries(async () => call).then((res) => res.data as T);
  }

  /** A call as the logged-in user: logs in first if needed, and once more on a 401. */
  async authed<T>(call: ApiCall): Promise<T> {
    const token = this.session()?.token ?? (await this.login()).token;
    try {
      return await this.withToken<T>(call, token);
    } catch (err) {
      if (!(err instanceof MinipayError && err.status === 401)) throw err;
      // The server forgot or expired the token before we did: log in again, retry once.
      this.forget();
      const renewed = await this.login();
      return this.withToken<T>(call, renewed.token);
    }
  }

  private async withToken<T>(call: ApiCall, token: string): Promise<T> {
    const header = { ...call.header, Authorization: `Bearer ${token}` };
    const res = await this.withRetries(async () => ({ ...call, header }));
    return res.data as T;
  }

  private async freshLogin(): Promise<Session> {
    const res = await this.withRetries(async () => ({
      method: 'POST',
      path: '/api/v1/login',
      body: { code: await this.platformLoginCode() },
    }));
    const session = res.data as Session;
    if (typeof session?.token !== 'string' || typeof session.expiresAt !== 'string') {
      throw badResponse(res, 'the login answer has no token');
    }
    const stored: StoredSession = { ...session, baseUrl: this.options.baseUrl };
    this.options.platform.storage.set(SESSION_STORAGE_KEY, JSON.stringify(stored));
    return session;
  }

  private async platformLoginCode(): Promise<string> {
    try {
      return await this.options.platform.login();
    } catch (err) {
      const errMsg = err instanceof PlatformCallError ? err.errMsg : String(err);
      throw new MinipayError('LOGIN_FAILED', `wx.login failed (${errMsg}); try again`, {
        errMsg,
        cause: err,
      });
    }
  }

  /** Sends `build()`'s request, retrying network errors and busy answers with backoff. */
  private async withRetries(build: () => Promise<ApiCall>): Promise<PlatformResponse> {
    const { retry, sleep, random } = this.options;
    for (let attempt = 1; ; attempt++) {
      const call = await build();
      let error: MinipayError;
      try {
        const res = await this.send(call);
        if (res.statusCode >= 200 && res.statusCode < 300) {
          if (typeof res.data !== 'object' || res.data === null) {
            throw badResponse(res, `HTTP ${res.statusCode} with a body that is not JSON`);
          }
          return res;
        }
        error = errorOf(res);
        if (!isRetryableStatus(res.statusCode, error.code)) throw error;
        const asked = error.retryAfterMs;
        if (asked !== undefined) {
          // The server said when: sooner would be refused again, and a phone should not wait
          // longer than the policy allows, so give the caller the error (and the wait) instead.
          if (asked > retry.maxDelayMs || attempt >= retry.attempts) throw error;
          await sleep(Math.max(asked, backoffMs(retry, attempt, random)));
          continue;
        }
      } catch (err) {
        if (!(err instanceof PlatformCallError)) throw err;
        error = new MinipayError(
          'NETWORK_ERROR',
          `no answer from the server (${err.errMsg}); check the network and try again`,
          { errMsg: err.errMsg, cause: err },
        );
      }
      if (attempt >= retry.attempts) throw error;
      await sleep(backoffMs(retry, attempt, random));
    }
  }

  private send(call: ApiCall): Promise<PlatformResponse> {
    const header: Record<string, string> = { Accept: 'application/json', ...call.header };
    if (call.upload) return this.sendFile(call.path, call.upload, header);
    if (call.body !== undefined) header['Content-Type'] = 'application/json';
    return this.options.platform.request({
      url: this.options.baseUrl + call.path,
      method: call.method,
      header,
      ...(call.body === undefined ? {} : { data: call.body }),
      timeoutMs: this.options.timeoutMs,
    });
  }

  private sendFile(
    path: string,
    upload: NonNullable<ApiCall['upload']>,
    header: Record<string, string>,
  ): Promise<PlatformResponse> {
    const { platform } = this.options;
    if (!platform.uploadFile) {
      throw new MinipayError(
        'UNSUPPORTED',
        'this platform object has no uploadFile (wx.uploadFile): pass it to the adapter',
      );
    }
    return platform.uploadFile({
      url: this.options.baseUrl + path,
      ...upload,
      header,
      timeoutMs: this.options.timeoutMs,
    });
  }
}

function headerValue(res: PlatformResponse, name: string): string | undefined {
  for (const [key, value] of Object.entries(res.header)) {
    if (key.toLowerCase() === name) return String(value);
  }
  return undefined;
}

/** The server's `{ error: { code, message } }` as a MinipayError. */
function errorOf(res: PlatformResponse): MinipayError {
  const body = res.data as { error?: { code?: unknown; message?: unknown } } | undefined;
  const code = body?.error?.code;
  const message = body?.error?.message;
  if (typeof code !== 'string' || typeof message !== 'string') {
    return badResponse(res, `HTTP ${res.statusCode} without minipay's error body`);
  }
  return new MinipayError(code, message, {
    status: res.statusCode,
    requestId: headerValue(res, 'x-request-id'),
    retryAfterMs: retryAfterMs(headerValue(res, 'retry-after')),
  });
}

/** `Retry-After` as delay-seconds or an HTTP date (RFC 9110 §10.2.3), in ms; absent if unreadable. */
export function retryAfterMs(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d{1,9}$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at) || !/[a-z]/i.test(trimmed)) return undefined;
  return Math.max(0, at - now);
}

function badResponse(res: PlatformResponse, what: string): MinipayError {
  return new MinipayError(
    'BAD_RESPONSE',
    `${what}: is baseUrl a minipay server (it should serve /api/v1)?`,
    { status: res.statusCode, requestId: headerValue(res, 'x-request-id') },
  );
}

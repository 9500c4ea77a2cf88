/**
 * One access_token for all instances of the app. The token lives in a `TokenStore`; an
 * instance uses it until `refreshMarginMs` before it expires, then refreshes it, one instance
 * at a time (the store's lease) and one call at a time within the process (single flight).
 * The others keep using the old token while it is still valid, or wait for the new one.
 *
 * When a call is refused with a token error (40001, 40014, 42001), `withToken` asks for
 * another token and retries the call once. Getting another token costs as little as it can:
 * the store first (another instance may already have one), then a normal-mode call (someone
 * may have forced a refresh elsewhere), and only when WeChat hands back the refused token a
 * forced refresh: at most `maxForcedPerDay` a day (WeChat allows 20) and at least 30 s apart,
 * the gap doubling with each forced refresh of the day. Both counts live in the store, so they
 * hold across instances and restarts.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type AccessToken, fetchStableToken } from './access-token.js';
import { beijingDay, MiniProgramApiError, msUntilBeijingMidnight } from './errors.js';
import { Transport, type TransportOptions } from './http.js';
import type { TokenStore } from './token-store.js';

export interface TokenManagerOptions extends TransportOptions {
  appId: string;
  appSecret: string;
  store: TokenStore;
  /**
   * Refresh this long before expiry. Default 4 minutes: WeChat issues the next token only in
   * the last 5 minutes of the current one, and every token it gives lasts at least 300 s.
   */
  refreshMarginMs?: number;
  /** The refresh lease; must outlast one token call. Default 15,000 ms. */
  leaseTtlMs?: number;
  /** How often a waiting instance looks for the new token. Default 100 ms. */
  pollMs?: number;
  /** Forced refreshes a day, of WeChat's 20 (the rest stay for people). Default 10. */
  maxForcedPerDay?: number;
  /** The least gap between forced refreshes (WeChat ignores closer ones). Default 30,000 ms. */
  forcedIntervalMs?: number;
  /** Normal-mode calls a day before minipay stops itself (WeChat allows 500,000). Default 10,000. */
  maxNormalPerDay?: number;
  /** Told of every token call (never the token): for metrics and logs. */
  onRefresh?: (event: { forced: boolean; expiresAt: number }) => void;
  /** Names this instance in the lease. Default a random UUID. */
  holder?: string;
}

/** What the API clients need: a token, and a way to retry a call once with a new one. */
export interface TokenSource {
  withToken<T>(call: (token: AccessToken) => Promise<T>): Promise<T>;
}

const MAX_FORCED_GAP_MS = 3600_000;

export class TokenManager implements TokenSource {
  private readonly transport: Transport;
  private readonly appId: string;
  private readonly appSecret: string;
  private readonly store: TokenStore;
  private readonly now: () => number;
  private readonly marginMs: number;
  private readonly leaseTtlMs: number;
  private readonly pollMs: number;
  private readonly maxForcedPerDay: number;
  private readonly forcedIntervalMs: number;
  private readonly maxNormalPerDay: number;
  private readonly onRefresh: TokenManagerOptions['onRefresh'];
  private readonly holder: string;
  private cached: AccessToken | undefined;
  private inflight: Promise<AccessToken> | undefined;

  constructor(options: TokenManagerOptions) {
    this.transport = new Transport(options);
    this.appId = options.appId;
    this.appSecret = options.appSecret;
    this.store = options.store;
    this.now = this.transport.now;
    this.marginMs = options.refreshMarginMs ?? 240_000;
    if (this.marginMs < 0 || this.marginMs >= 300_000) {
      throw new RangeError(
        'refreshMarginMs must be under 300,000 (the shortest token WeChat gives)',
      );
    }
    this.leaseTtlMs = options.leaseTtlMs ?? 15_000;
    this.pollMs = options.pollMs ?? 100;
    this.maxForcedPerDay = options.maxForcedPerDay ?? 10;
    if (this.maxForcedPerDay > 20) throw new RangeError('WeChat allows 20 forced refreshes a day');
    this.forcedIntervalMs = Math.max(options.forcedIntervalMs ?? 30_000, 30_000);
    this.maxNormalPerDay = options.maxNormalPerDay ?? 10_000;
    this.onRefresh = options.onRefresh;
    this.holder = options.holder ?? randomUUID();
  }

  /** A token valid for at least the refresh margin. */
  async get(): Promise<AccessToken> {
    const cached = this.cached;
    if (cached && this.fresh(cached)) return cached;
    return this.run(undefined);
  }

  /** Another token than `failed`, which WeChat refused. */
  async invalidate(failed: AccessToken): Promise<AccessToken> {
    if (this.cached?.sameAs(failed)) this.cached = undefined;
    return this.run(failed);
  }

  /** Runs `call` with a token; on a token error, once more with another token. */
  async withToken<T>(call: (token: AccessToken) => Promise<T>): Promise<T> {
    const token = await this.get();
    try {
      return await call(token);
    } catch (err) {
      if (!(err instanceof MiniProgramApiError) || err.kind !== 'token-invalid') throw err;
      return call(await this.invalidate(token));
    }
  }

  private async run(failed: AccessToken | undefined): Promise<AccessToken> {
    const running = this.inflight;
    if (running) {
      const token = await running;
      if (!token.sameAs(failed)) return token;
      if (this.inflight) return this.run(failed);
    }
    const next = (async () => {
      try {
        return await this.obtain(failed);
      } finally {
        this.inflight = undefined;
      }
    })();
    this.inflight = next;
    return next;
  }

  private async obtain(failed: AccessToken | undefined): Promise<AccessToken> {
    const deadline = this.now() + this.leaseTtlMs;
    for (;;) {
      const shared = await this.store.read();
      if (this.usable(shared, failed) && this.fresh(shared)) return this.keep(shared);
      if (await this.store.acquireLease(this.holder, this.leaseTtlMs, this.now())) {
        try {
          const again = await this.store.read();
          if (this.usable(again, failed) && this.fresh(again)) return this.keep(again);
          const token = await this.refresh(failed);
          await this.store.write(token);
          return this.keep(token);
        } finally {
          await this.store.releaseLease(this.holder);
        }
      }
      // Another instance is refreshing: a token still valid serves meanwhile.
      if (this.usable(shared, failed) && shared.expiresAt > this.now()) return this.keep(shared);
      if (this.now() >= deadline) {
        throw new MiniProgramApiError(
          'retryable',
          'TOKEN_REFRESH_TIMEOUT',
          `another instance held the access_token refresh for ${this.leaseTtlMs} ms without writing a token; retry`,
        );
      }
      await sleep(this.pollMs);
    }
  }

  /** A normal-mode call; a forced one only when WeChat hands back the refused token. */
  private async refresh(failed: AccessToken | undefined): Promise<AccessToken> {
    const token = await this.call(false);
    if (!token.sameAs(failed)) return token;
    return this.call(true);
  }

  private async call(forced: boolean): Promise<AccessToken> {
    const now = this.now();
    const day = beijingDay(now);
    const quota = await this.store.quota(day);
    if (forced) {
      if (quota.forcedCalls >= this.maxForcedPerDay) {
        throw new MiniProgramApiError(
          'retryable',
          'FORCED_REFRESH_LIMIT',
          `the access_token was refused and the ${this.maxForcedPerDay} forced refreshes of today are used; calls resume after midnight Beijing time. Something else may be forcing refreshes of this AppID (another system, a leaked AppSecret): find it`,
          { retryAfterMs: msUntilBeijingMidnight(now) },
        );
      }
      const wait =
        quota.lastForcedAt === undefined
          ? 0
          : quota.lastForcedAt + this.forcedGap(quota.forcedCalls) - now;
      if (wait > 0) {
        throw new MiniProgramApiError(
          'retryable',
          'FORCED_REFRESH_BACKOFF',
          `the access_token was refused again; the next forced refresh is allowed in ${Math.ceil(wait / 1000)} s`,
          { retryAfterMs: wait },
        );
      }
    } else if (quota.normalCalls >= this.maxNormalPerDay) {
      throw new MiniProgramApiError(
        'retryable',
        'TOKEN_DAILY_LIMIT',
        `${quota.normalCalls} access_token calls today reach minipay's limit of ${this.maxNormalPerDay}: something refreshes in a loop; calls resume after midnight Beijing time`,
        { retryAfterMs: msUntilBeijingMidnight(now) },
      );
    }
    await this.store.countCall(day, forced, now);
    const token = await fetchStableToken(this.transport, {
      appId: this.appId,
      appSecret: this.appSecret,
      forceRefresh: forced,
    });
    this.onRefresh?.({ forced, expiresAt: token.expiresAt });
    return token;
  }

  /** 30 s after the first forced refresh of the day, then doubling, at most an hour. */
  private forcedGap(forcedToday: number): number {
    return Math.min(this.forcedIntervalMs * 2 ** Math.max(0, forcedToday - 1), MAX_FORCED_GAP_MS);
  }

  private usable(
    token: AccessToken | undefined,
    failed: AccessToken | undefined,
  ): token is AccessToken {
    return token !== undefined && !token.sameAs(failed);
  }

  private fresh(token: AccessToken): boolean {
    return token.expiresAt - this.marginMs > this.now();
  }

  private keep(token: AccessToken): AccessToken {
    this.cached = token;
    return token;
  }
}

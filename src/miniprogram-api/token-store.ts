/**
 * Where the access_token lives so that every instance shares one: the `TokenStore` port the
 * app backs with its database, and an in-memory store for one process and for tests.
 *
 * A store is for one AppID. Its operations need not be transactions with each other, except
 * `acquireLease`, which must be atomic: of two instances asking at once, one gets it.
 */
import type { AccessToken } from './access-token.js';

/** Calls to getStableAccessToken on one Beijing day. */
export interface TokenQuota {
  /** `YYYY-MM-DD`, Beijing time. */
  day: string;
  normalCalls: number;
  forcedCalls: number;
  /** When the last forced refresh was sent (any day), epoch milliseconds. */
  lastForcedAt?: number;
}

export interface TokenStore {
  /** The shared token, if one was written. */
  read(): Promise<AccessToken | undefined>;
  /** Replaces the shared token. Called only by the lease holder. */
  write(token: AccessToken): Promise<void>;
  /**
   * Takes the refresh lease for `ttlMs` from `now` when it is free, expired, or already this
   * holder's; returns whether `holder` has it now. Atomic.
   */
  acquireLease(holder: string, ttlMs: number, now: number): Promise<boolean>;
  /** Frees the lease if `holder` has it. */
  releaseLease(holder: string): Promise<void>;
  /** The counts of `day` (zero for a day with no calls). */
  quota(day: string): Promise<TokenQuota>;
  /** Counts one call on `day`, sent at `at`. */
  countCall(day: string, forced: boolean, at: number): Promise<void>;
}

/** A `TokenStore` in memory: one process shares it; tests give it to several managers. */
export class MemoryTokenStore implements TokenStore {
  private token: AccessToken | undefined;
  private lease: { holder: string; until: number } | undefined;
  private counts: TokenQuota = { day: '', normalCalls: 0, forcedCalls: 0 };
  private lastForcedAt: number | undefined;

  async read(): Promise<AccessToken | undefined> {
    return this.token;
  }

  async write(token: AccessToken): Promise<void> {
    this.token = token;
  }

  async acquireLease(holder: string, ttlMs: number, now: number): Promise<boolean> {
    const held = this.lease;
    if (held && held.holder !== holder && held.until > now) return false;
    this.lease = { holder, until: now + ttlMs };
    return true;
  }

  async releaseLease(holder: string): Promise<void> {
    if (this.lease?.holder === holder) this.lease = undefined;
  }

  async quota(day: string): Promise<TokenQuota> {
    const counts = this.counts.day === day ? this.counts : { day, normalCalls: 0, forcedCalls: 0 };
    return { ...counts, lastForcedAt: this.lastForcedAt };
  }

  async countCall(day: string, forced: boolean, at: number): Promise<void> {
    if (this.counts.day !== day) this.counts = { day, normalCalls: 0, forcedCalls: 0 };
    if (forced) {
      this.counts.forcedCalls++;
      this.lastForcedAt = at;
    } else {
      this.counts.normalCalls++;
    }
  }
}

/**
 * The `TokenStore` of `minipay/miniprogram-api` in the database: one row per AppID holds the
 * access_token every instance uses, the refresh lease (one instance refreshes at a time) and
 * the day's call counts, so WeChat's daily limits hold across instances and restarts.
 * `acquireLease` is one conditional UPDATE, atomic on SQLite and PostgreSQL alike.
 *
 * The token is stored as it is: whoever reads the database can call WeChat's server APIs with
 * it until it expires (at most two hours), as they could with the AppSecret itself.
 */
import { AccessToken, type TokenQuota, type TokenStore } from '../../miniprogram-api/index.js';
import type { Db } from '../lib/db.js';

const iso = (ms: number) => new Date(ms).toISOString();

export class DbTokenStore implements TokenStore {
  private created = false;

  constructor(
    private readonly db: Db,
    private readonly appId: string,
  ) {}

  async read(): Promise<AccessToken | undefined> {
    const row = await this.db
      .selectFrom('miniprogram_tokens')
      .select(['token', 'expires_at'])
      .where('app_id', '=', this.appId)
      .executeTakeFirst();
    if (!row?.token || !row.expires_at) return undefined;
    return new AccessToken(row.token, Date.parse(row.expires_at));
  }

  async write(token: AccessToken): Promise<void> {
    await this.ensureRow();
    await this.db
      .updateTable('miniprogram_tokens')
      .set({ token: token.value, expires_at: iso(token.expiresAt) })
      .where('app_id', '=', this.appId)
      .execute();
  }

  async acquireLease(holder: string, ttlMs: number, now: number): Promise<boolean> {
    await this.ensureRow();
    const result = await this.db
      .updateTable('miniprogram_tokens')
      .set({ lease_holder: holder, lease_until: iso(now + ttlMs) })
      .where('app_id', '=', this.appId)
      .where((eb) =>
        eb.or([
          eb('lease_holder', 'is', null),
          eb('lease_holder', '=', holder),
          eb('lease_until', '<=', iso(now)),
        ]),
      )
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async releaseLease(holder: string): Promise<void> {
    await this.db
      .updateTable('miniprogram_tokens')
      .set({ lease_holder: null, lease_until: null })
      .where('app_id', '=', this.appId)
      .where('lease_holder', '=', holder)
      .execute();
  }

  async quota(day: string): Promise<TokenQuota> {
    const row = await this.db
      .selectFrom('miniprogram_tokens')
      .select(['quota_day', 'normal_calls', 'forced_calls', 'last_forced_at'])
      .where('app_id', '=', this.appId)
      .executeTakeFirst();
    const today = row?.quota_day === day;
    return {
      day,
      normalCalls: today ? row.normal_calls : 0,
      forcedCalls: today ? row.forced_calls : 0,
      lastForcedAt: row?.last_forced_at ? Date.parse(row.last_forced_at) : undefined,
    };
  }

  async countCall(day: string, forced: boolean, at: number): Promise<void> {
    await this.ensureRow();
    await this.db
      .updateTable('miniprogram_tokens')
      .set((eb) => ({
        // A new day starts both counts from zero.
        normal_calls: eb
          .case()
          .when('quota_day', '=', day)
          .then(eb('normal_calls', '+', forced ? 0 : 1))
          .else(forced ? 0 : 1)
          .end(),
        forced_calls: eb
          .case()
          .when('quota_day', '=', day)
          .then(eb('forced_calls', '+', forced ? 1 : 0))
          .else(forced ? 1 : 0)
          .end(),
        quota_day: day,
        ...(forced && { last_forced_at: iso(at) }),
      }))
      .where('app_id', '=', this.appId)
      .execute();
  }

  private async ensureRow(): Promise<void> {
    if (this.created) return;
    await this.db
      .insertInto('miniprogram_tokens')
      .values({ app_id: this.appId, quota_day: '', normal_calls: 0, forced_calls: 0 })
      .onConflict((oc) => oc.column('app_id').doNothing())
      .execute();
    this.created = true;
  }
}

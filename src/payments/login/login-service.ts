/**
 * Mini program login: a `wx.login` code is exchanged with WeChat (jscode2session) for the
 * user's openid; the user is upserted and gets an opaque session token. Only the token's
 * sha256 is stored; `session_key` stays in the database and never leaves the server.
 */

import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { LoginAnswer } from '../../contract/index.js';
import { preparedQuery } from '../../store/prepared-query.js';
import type { Database } from '../../store/schema.js';
import type { PaymentsContext } from '../context.js';
import { DomainError, validation } from '../lib/errors.js';
import { newId, newToken } from '../lib/ids.js';

/** What the server needs from WeChat's login API. */
export interface WechatLogin {
  /** Throws LoginCodeRejected for a bad/used/expired code; anything else is "unavailable". */
  code2Session(code: string): Promise<{ openid: string; unionid?: string; sessionKey: string }>;
}

/** WeChat refused the code (invalid, already used or expired). */
export class LoginCodeRejected extends Error {
  override readonly name = 'LoginCodeRejected';
}

export interface SessionUser {
  id: string;
  openid: string;
}

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

/** Every API request's first query. */
const sessionUser = preparedQuery<
  { hash: string },
  { id: string; openid: string; expiresAt: string }
>((db, p) =>
  db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select(['users.id as id', 'users.openid as openid', 'sessions.expires_at as expiresAt'])
    .where('sessions.token_hash', '=', p('hash')),
);

export class LoginService {
  constructor(
    private readonly ctx: PaymentsContext,
    private readonly wechat: WechatLogin,
  ) {}

  async login(code: string): Promise<LoginAnswer> {
    if (code.length === 0 || code.length > 128 || !/^[\x21-\x7e]+$/.test(code)) {
      throw validation('code must be the 1-128 character string wx.login returned');
    }
    const session = await this.exchange(code);
    const now = this.ctx.clock();
    const iso = now.toISOString();
    const token = newToken();
    const expiresAt = new Date(now.getTime() + this.ctx.settings.sessionTtlMs).toISOString();
    // One transaction: the user's upsert locks their row until COMMIT, so one user's logins
    // take turns and each trims the sessions the others committed.
    const userId = await this.ctx.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('users')
        .values({
          id: newId('usr'),
          openid: session.openid,
          unionid: session.unionid ?? null,
          session_key: session.sessionKey,
          created_at: iso,
          updated_at: iso,
        })
        .onConflict((oc) =>
          oc.column('openid').doUpdateSet({
            session_key: session.sessionKey,
            unionid: session.unionid ?? null,
            updated_at: iso,
          }),
        )
        .execute();
      const user = await trx
        .selectFrom('users')
        .select('id')
        .where('openid', '=', session.openid)
        .executeTakeFirstOrThrow();
      await trx
        .insertInto('sessions')
        .values({
          token_hash: hashToken(token),
          user_id: user.id,
          created_at: iso,
          expires_at: expiresAt,
        })
        .execute();
      await this.keepNewest(trx, user.id, hashToken(token));
      return user.id;
    });
    this.ctx.metrics.inc('minipay_logins_total');
    return { token, expiresAt, user: { id: userId } };
  }

  /** Ends the session of this token (POST /api/v1/logout); true when there was one. */
  async logout(token: string): Promise<boolean> {
    const r = await this.ctx.db
      .deleteFrom('sessions')
      .where('token_hash', '=', hashToken(token))
      .executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  /** Deletes expired sessions (a job); resolves to how many. */
  async purgeExpired(): Promise<number> {
    const r = await this.ctx.db
      .deleteFrom('sessions')
      .where('expires_at', '<=', this.ctx.clock().toISOString())
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  /** A user keeps the session just made and the newest others, `sessionsPerUser` in all. */
  private async keepNewest(db: Kysely<Database>, userId: string, made: string): Promise<void> {
    const others = db
      .selectFrom('sessions')
      .select('token_hash')
      .where('user_id', '=', userId)
      .where('token_hash', '!=', made)
      .orderBy('created_at', 'desc')
      .orderBy('token_hash', 'desc')
      .limit(this.ctx.settings.sessionsPerUser - 1);
    await db
      .deleteFrom('sessions')
      .where('user_id', '=', userId)
      .where('token_hash', '!=', made)
      .where('token_hash', 'not in', others)
      .execute();
  }

  /** The user behind a bearer token, or null when it is unknown or expired. */
  async authenticate(token: string): Promise<SessionUser | null> {
    if (token.length === 0 || token.length > 256) return null;
    const [row] = await sessionUser(this.ctx.db, { hash: hashToken(token) });
    if (!row || row.expiresAt <= this.ctx.clock().toISOString()) return null;
    return { id: row.id, openid: row.openid };
  }

  private async exchange(code: string) {
    try {
      return await this.wechat.code2Session(code);
    } catch (err) {
      if (err instanceof LoginCodeRejected) {
        throw new DomainError(
          401,
          'UNAUTHORIZED',
          'WeChat refused this login code (invalid, used or expired); call wx.login again and send the new code',
        );
      }
      this.ctx.logger.warn({ err }, 'jscode2session failed');
      throw new DomainError(
        502,
        'WECHAT_UNAVAILABLE',
        'WeChat login did not answer; retry in a moment',
      );
    }
  }
}

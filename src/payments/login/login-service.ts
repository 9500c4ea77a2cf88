/**
 * Mini program login: a `wx.login` code is exchanged with WeChat (jscode2session) for the
 * user's openid; the user is upserted and gets an opaque session token. Only the token's
 * sha256 is stored; `session_key` stays in the database and never leaves the server.
 */

import { createHash } from 'node:crypto';
import type { LoginAnswer } from '../../contract/index.js';
import type { PaymentsContext } from '../context.js';
import { DomainError, validation } from '../lib/errors.js';
import { newToken } from '../lib/ids.js';
import {
  deleteExpiredSessions,
  deleteSession,
  findSession,
  saveLogin,
  type WechatSession,
} from './sessions-repo.js';

/** What the server needs from WeChat's login API. */
export interface WechatLogin {
  /** Throws LoginCodeRejected for a bad/used/expired code; anything else is "unavailable". */
  code2Session(code: string): Promise<WechatSession>;
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
    const token = newToken();
    const expiresAt = new Date(now.getTime() + this.ctx.settings.sessionTtlMs).toISOString();
    const userId = await saveLogin(
      this.ctx.db,
      session,
      { tokenHash: hashToken(token), expiresAt },
      this.ctx.settings.sessionsPerUser,
      now.toISOString(),
    );
    this.ctx.metrics.inc('minipay_logins_total');
    return { token, expiresAt, user: { id: userId } };
  }

  /** Ends the session of this token (POST /api/v1/logout); true when there was one. */
  logout(token: string): Promise<boolean> {
    return deleteSession(this.ctx.db, hashToken(token));
  }

  /** Deletes expired sessions (a job); resolves to how many. */
  purgeExpired(): Promise<number> {
    return deleteExpiredSessions(this.ctx.db, this.ctx.clock().toISOString());
  }

  /** The user behind a bearer token, or null when it is unknown or expired. */
  async authenticate(token: string): Promise<SessionUser | null> {
    if (token.length === 0 || token.length > 256) return null;
    const row = await findSession(this.ctx.db, hashToken(token));
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

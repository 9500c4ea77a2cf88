/**
 * Mini program login: `wx.login` (the sandbox hands out a one-time code) and
 * `GET /sns/jscode2session` (the merchant server exchanges it for the openid).
 *
 * Answers are always HTTP 200 JSON, errors as `{errcode, errmsg}` with WeChat's
 * `, hints: [ req_id: … ]` suffix. Success carries `openid` and `session_key` and no
 * `errcode` (UNCONFIRMED whether real success bodies carry `errcode: 0`; merchants should
 * accept both). No `unionid`: the sandbox's mini program is not bound to an Open Platform
 * account.
 */
import { randomBytes } from 'node:crypto';
import { constantTimeEqual } from '../wechatpay/index.js';
import type { SandboxCore } from './core.js';
import { loginCode, openid as newOpenid, sessionKey } from './identifiers.js';

/** A `wx.login` code is valid for 5 minutes and once (official wx.login doc). */
export const LOGIN_CODE_TTL_MS = 5 * 60 * 1000;
const OPENID = /^[A-Za-z0-9_-]{1,128}$/;

export type Code2SessionAnswer =
  | { openid: string; session_key: string }
  | { errcode: number; errmsg: string };

/** `wx.login`: a fresh one-time code for `openid` (a new user when none is given). */
export function issueLoginCode(
  core: SandboxCore,
  openid?: string,
): { code: string; openid: string } {
  if (openid !== undefined && !OPENID.test(openid)) {
    throw new RangeError('openid must be 1 to 128 of A-Z a-z 0-9 _ -');
  }
  const user = openid ?? newOpenid();
  const code = loginCode();
  core.state.loginCodes.insert({
    code,
    openid: user,
    session_key: sessionKey(),
    created_at: core.clock.now(),
    used_at: null,
  });
  return { code, openid: user };
}

/** Query parameters of jscode2session (each may be repeated or missing). */
export type Code2SessionQuery = Readonly<Record<string, string | string[] | undefined>>;

/**
 * `GET /sns/jscode2session`. Error codes: 41002 appid missing, 40013 invalid appid,
 * 41004 secret missing, 40125 invalid appsecret, 41008 js_code missing, 40002 invalid
 * grant_type, 40029 invalid code (unknown or expired), 40163 code been used.
 */
export function code2Session(core: SandboxCore, query: Code2SessionQuery): Code2SessionAnswer {
  const get = (name: string) => {
    const v = query[name];
    return typeof v === 'string' ? v : undefined;
  };
  const appid = get('appid');
  const secret = get('secret');
  const jsCode = get('js_code');
  const grantType = get('grant_type');
  if (!appid) return error(41002, 'appid missing');
  if (appid !== core.credentials.appId) return error(40013, 'invalid appid');
  if (!secret) return error(41004, 'appsecret missing');
  if (!constantTimeEqual(secret, core.credentials.appSecret))
    return error(40125, 'invalid appsecret');
  if (!jsCode) return error(41008, 'missing code');
  if (grantType !== 'authorization_code') return error(40002, 'invalid grant_type');
  const row = core.state.loginCodes.get(jsCode);
  const now = core.clock.now();
  if (!row || now - row.created_at >= LOGIN_CODE_TTL_MS) return error(40029, 'invalid code');
  if (!core.state.loginCodes.use(jsCode, now)) return error(40163, 'code been used');
  return { openid: row.openid, session_key: row.session_key };
}

/** WeChat's error body, with the request id hint real answers carry. */
export function error(errcode: number, errmsg: string): { errcode: number; errmsg: string } {
  return {
    errcode,
    errmsg: `${errmsg}, hints: [ req_id: ${randomBytes(6).toString('base64url')} ]`,
  };
}

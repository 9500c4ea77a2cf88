/**
 * Mini program login: `code2Session` (`GET /sns/jscode2session` on api.weixin.qq.com) turns
 * the code of `wx.login()` into the user's openid. Errors arrive as HTTP 200 JSON
 * `{errcode, errmsg}`; success may carry `errcode: 0` or none. The `session_key` is a secret:
 * keep it server-side, never log it.
 */
import { DomainFailover, type FailoverEvent } from './domain-failover.js';
import { WechatPayError, type WechatPayErrorKind, type WechatPaySetting } from './errors.js';
import { exchange } from './http.js';

export interface Code2SessionOptions {
  /** Default https://api.weixin.qq.com */
  baseUrl?: string;
  /**
   * WeChat's disaster-recovery domain (https://api2.weixin.qq.com), tried once when the main
   * domain's exchange is lost or answers 5xx. Pass `failover` instead to keep the choice
   * between calls.
   */
  backupBaseUrl?: string;
  /** Shared between calls, so the backup stays first for a while after a failover. */
  failover?: DomainFailover;
  appId: string;
  appSecret: string;
  /** Default 5000. */
  timeoutMs?: number;
}

export interface Session {
  openid: string;
  unionid?: string;
  sessionKey: string;
}

interface Advice {
  kind: WechatPayErrorKind;
  advice: string;
  settings?: readonly WechatPaySetting[];
}

const ERRCODES: Readonly<Record<number, Advice>> = {
  [-1]: { kind: 'ambiguous', advice: 'WeChat is busy; retry shortly with a new wx.login code' },
  40029: { kind: 'rejected', advice: 'the code is invalid or expired; call wx.login() again' },
  40163: { kind: 'rejected', advice: 'the code was already used; call wx.login() again' },
  45011: { kind: 'rejected', advice: 'too many logins; slow down and retry in a minute' },
  40226: { kind: 'rejected', advice: 'WeChat blocked this high-risk user from logging in' },
  40013: { kind: 'config', advice: 'the AppID is wrong', settings: ['appId'] },
  40125: { kind: 'config', advice: 'the AppSecret is wrong', settings: ['appSecret'] },
  41002: { kind: 'config', advice: 'the AppID is missing', settings: ['appId'] },
  41004: { kind: 'config', advice: 'the AppSecret is missing', settings: ['appSecret'] },
  41008: { kind: 'rejected', advice: 'the code is missing; send the code of wx.login()' },
};

const CODE = /^[A-Za-z0-9_-]{1,128}$/;

/** Exchanges a `wx.login()` code for the user's openid; throws `WechatPayError`. */
export async function code2Session(options: Code2SessionOptions, code: string): Promise<Session> {
  if (!CODE.test(code)) {
    throw new WechatPayError(
      'rejected',
      '40029',
      'the login code is malformed; send the code of wx.login() as it is',
    );
  }
  const query = new URLSearchParams({
    appid: options.appId,
    secret: options.appSecret,
    js_code: code,
    grant_type: 'authorization_code',
  });
  let domainsTried = 0;
  const res = await loginFailover(options).send('/sns/jscode2session', (base) => {
    domainsTried++;
    return exchange({
      method: 'GET',
      url: `${base}/sns/jscode2session?${query}`,
      timeoutMs: options.timeoutMs ?? 5000,
      maxBytes: 16 * 1024,
      what: 'code2Session',
    });
  });
  if (res.status >= 500) {
    throw new WechatPayError(
      'ambiguous',
      `HTTP_${res.status}`,
      `code2Session: HTTP ${res.status}; retry`,
    );
  }
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(res.body.toString('utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new WechatPayError(
      'invalid',
      'MALFORMED_RESPONSE',
      'code2Session: the answer is not JSON',
      {
        cause: err,
      },
    );
  }
  const errcode = json.errcode;
  if (errcode === 40163 && domainsTried > 1) {
    // The lost first exchange may have reached WeChat and spent the code: not the user's fault.
    throw new WechatPayError(
      'ambiguous',
      '40163',
      'code2Session: the code was spent by an exchange whose answer was lost; retry with a new wx.login code',
    );
  }
  if (errcode !== undefined && errcode !== 0) {
    const n = typeof errcode === 'number' ? errcode : Number.NaN;
    const known = ERRCODES[n];
    const errmsg = typeof json.errmsg === 'string' ? json.errmsg : '';
    throw new WechatPayError(
      known?.kind ?? 'rejected',
      String(errcode),
      `code2Session: ${errcode} ${errmsg}: ${known?.advice ?? 'see the code2Session error table'}`,
      { description: errmsg, settings: known?.settings },
    );
  }
  const { openid, session_key: sessionKey, unionid } = json;
  if (typeof openid !== 'string' || !openid || typeof sessionKey !== 'string' || !sessionKey) {
    throw new WechatPayError(
      'invalid',
      'MALFORMED_RESPONSE',
      'code2Session: the answer has no openid or session_key',
    );
  }
  return {
    openid,
    sessionKey,
    unionid: typeof unionid === 'string' && unionid ? unionid : undefined,
  };
}

/**
 * The caller's failover, or a new one over `baseUrl` and `backupBaseUrl`: build one with this
 * and pass it as `failover` to keep the choice of domain between calls.
 */
export function loginFailover(
  options: Omit<Code2SessionOptions, 'appId' | 'appSecret'>,
  onFailover?: (event: FailoverEvent) => void,
): DomainFailover {
  if (options.failover) return options.failover;
  const trim = (url: string) => url.replace(/\/+$/, '');
  return new DomainFailover(
    trim(options.baseUrl ?? 'https://api.weixin.qq.com'),
    options.backupBaseUrl === undefined ? undefined : trim(options.backupBaseUrl),
    undefined,
    onFailover,
  );
}

/**
 * APIv3 errors: the same `WechatPayError` (and the same five kinds) as v2, so a caller treats
 * both alike, plus what a v3 answer says about itself: the HTTP status, WeChat's `detail`, the
 * `Request-ID` WeChat support asks for, and whether the answer was signed by WeChat.
 *
 * An error answer is `{ "code", "message", "detail"? }` with a 4xx/5xx status. Its kind comes
 * from `V3_ERROR_CODES` (the codes of WeChat's error-code page and of each product's page),
 * then from the status: 5xx `ambiguous`, 429 `later`, 401/403 (and a 3xx: a wrong base URL)
 * `config`, other 4xx `rejected`.
 */
import { WechatPayError, type WechatPayErrorKind, type WechatPaySetting } from '../errors.js';

export interface V3ErrorDetails {
  status?: number;
  /** WeChat's `detail` (e.g. `{ field, value, issue, location }`), as received. */
  detail?: unknown;
  requestId?: string;
  /**
   * Whether WeChat's signature on the error answer verified. WeChat's own SDKs do not verify
   * error answers and whether WeChat signs them all is not documented, so an unsigned one is
   * still classified by its code; `false` says a proxy could have written it.
   */
  verified?: boolean;
  description?: string;
  cause?: unknown;
  settings?: readonly WechatPaySetting[];
}

export class WechatPayV3Error extends WechatPayError {
  readonly status: number | undefined;
  readonly detail: unknown;
  readonly requestId: string | undefined;
  readonly verified: boolean | undefined;

  constructor(
    kind: WechatPayErrorKind,
    code: string,
    message: string,
    details: V3ErrorDetails = {},
  ) {
    super(kind, code, message, {
      cause: details.cause,
      description: details.description,
      settings: details.settings,
    });
    this.status = details.status;
    this.detail = details.detail;
    this.requestId = details.requestId;
    this.verified = details.verified;
  }
}

export interface Advice {
  kind: WechatPayErrorKind;
  advice: string;
  /** The settings that, wrong, explain a `config` refusal (errors.ts `WECHATPAY_SETTINGS`). */
  settings?: readonly WechatPaySetting[];
}

/** Every documented v3 error code minipay's products can meet: its kind and what to do. */
export const V3_ERROR_CODES: Readonly<Record<string, Advice>> = {
  SYSTEM_ERROR: { kind: 'ambiguous', advice: 'WeChat is busy; retry with the same parameters' },
  SERVICE_UNAVAILABLE: { kind: 'ambiguous', advice: 'WeChat is unavailable; retry later' },
  BANKERROR: { kind: 'ambiguous', advice: 'the bank failed; retry with the same parameters' },
  PARAM_ERROR: { kind: 'rejected', advice: 'a parameter is wrong (see detail)' },
  INVALID_REQUEST: {
    kind: 'rejected',
    advice: 'the request breaks a rule, or differs from an earlier one with the same number',
  },
  SIGN_ERROR: {
    kind: 'config',
    advice:
      'WeChat refused the signature: check that the private key is the one of the merchant API certificate whose serial you send, and this machine clock',
    settings: ['privateKey', 'serialNo'],
  },
  NO_AUTH: { kind: 'config', advice: 'the merchant lacks this API permission; apply for it' },
  APPID_MCHID_NOT_MATCH: {
    kind: 'config',
    advice: 'the AppID is not bound to this mchid',
    settings: ['appId', 'mchId'],
  },
  MCH_NOT_EXISTS: { kind: 'config', advice: 'WeChat has no such mchid', settings: ['mchId'] },
  ORDER_NOT_EXIST: { kind: 'rejected', advice: 'WeChat has no such order; check out_trade_no' },
  RESOURCE_NOT_EXISTS: { kind: 'rejected', advice: 'WeChat has no such refund or resource' },
  ORDER_CLOSED: { kind: 'rejected', advice: 'the order is closed; use a new out_trade_no' },
  ORDERPAID: { kind: 'rejected', advice: 'the order is already paid; query it' },
  OUT_TRADE_NO_USED: {
    kind: 'rejected',
    advice: 'this out_trade_no was used for another order; use a new one',
  },
  TRADE_ERROR: { kind: 'rejected', advice: 'the order is in a state that forbids this; query it' },
  ACCOUNT_ERROR: { kind: 'rejected', advice: "the payer's account is abnormal" },
  RULE_LIMIT: { kind: 'rejected', advice: 'a business rule refuses this' },
  USER_ACCOUNT_ABNORMAL: {
    kind: 'rejected',
    advice: "the payer's account is abnormal; refund offline",
  },
  NOT_ENOUGH: { kind: 'rejected', advice: "the payer's balance is not enough" },
  FREQUENCY_LIMITED: { kind: 'later', advice: 'too frequent; retry later with the same ids' },
  RATELIMIT_EXCEEDED: { kind: 'later', advice: 'too many requests; slow down and retry' },
  USER_PAYING: { kind: 'later', advice: 'the payer is paying; query again later' },
  STATEMENT_CREATING: {
    kind: 'later',
    advice: "WeChat publishes a day's bill the next morning; ask again later",
  },
  NO_STATEMENT_EXIST: { kind: 'rejected', advice: 'no bill that day (no trade or refund)' },
};

/**
 * At the refund endpoint NOT_ENOUGH is the merchant's balance and FREQUENCY_LIMITED the minute
 * between refunds of one order: WeChat did not act, and the same out_refund_no succeeds later
 * (as v2's NOTENOUGH there; docs/wechat-rules.md).
 */
export const REFUND_ERROR_CODES: Readonly<Record<string, Advice>> = {
  NOT_ENOUGH: {
    kind: 'later',
    advice:
      'the merchant balance cannot cover the refund now; retry later with the same out_refund_no (top up, or set funds_account)',
  },
  FREQUENCY_LIMITED: {
    kind: 'later',
    advice: 'refunds of one order must be a minute apart; retry later with the same out_refund_no',
  },
};

function kindOfStatus(status: number): WechatPayErrorKind {
  if (status >= 500) return 'ambiguous';
  if (status === 429) return 'later';
  if (status === 401 || status === 403 || status < 400) return 'config';
  return 'rejected';
}

/** An error answer as a typed error (`what` names the call, e.g. `POST /v3/refund/domestic/refunds`). */
export function errorFromAnswer(
  what: string,
  status: number,
  answer: { code?: unknown; message?: unknown; detail?: unknown } | undefined,
  details: Pick<V3ErrorDetails, 'requestId' | 'verified'>,
  atEndpoint: Readonly<Record<string, Advice>> = {},
): WechatPayV3Error {
  const code = typeof answer?.code === 'string' && answer.code ? answer.code : `HTTP_${status}`;
  const said = typeof answer?.message === 'string' && answer.message ? answer.message : undefined;
  const known = atEndpoint[code] ?? V3_ERROR_CODES[code];
  // A 5xx is a failure to answer whatever its code says: WeChat may have acted.
  const kind = status >= 500 ? 'ambiguous' : (known?.kind ?? kindOfStatus(status));
  const advice =
    known?.advice ?? (status >= 500 ? 'retry or query' : 'see WeChat Pay’s error table');
  const parts = [`${what}: HTTP ${status} ${code}`];
  if (said) parts.push(` (${said})`);
  parts.push(`: ${advice}`);
  if (details.requestId) parts.push(` [Request-ID ${details.requestId}]`);
  if (details.verified === false) parts.push(' [answer not signed by WeChat]');
  return new WechatPayV3Error(kind, code, parts.join(''), {
    status,
    detail: answer?.detail,
    description: said,
    settings: kind === 'config' ? known?.settings : undefined,
    ...details,
  });
}

export function invalid(
  code: string,
  message: string,
  details: V3ErrorDetails = {},
): WechatPayV3Error {
  return new WechatPayV3Error('invalid', code, message, details);
}

export function configError(message: string, cause?: unknown): WechatPayV3Error {
  return new WechatPayV3Error('config', 'CONFIG', message, { cause });
}

export function argument(message: string): never {
  throw new WechatPayV3Error('rejected', 'INVALID_ARGUMENT', message);
}

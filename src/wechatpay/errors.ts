/**
 * Typed WeChat Pay errors. Every failure of the protocol layer is a `WechatPayError` whose
 * `kind` says what the caller may do next (the same four kinds as the domain's GatewayError):
 * - `ambiguous`: timeout, network error, SYSTEMERROR, HTTP 5xx: WeChat may have acted; retry
 *   with the same ids, or settle it with a query;
 * - `rejected`: a business refusal (ORDERPAID, ORDERCLOSED, ...): the same call will not succeed;
 * - `later`: WeChat did not act and says so, but the same call will succeed later (a refund
 *   while the balance is short or within a minute of the last one, a bill not published yet):
 *   wait, then retry with the same ids;
 * - `config`: the merchant setup is wrong (SIGNERROR, APPID_MCHID_NOT_MATCH, NOAUTH, a bad key);
 *   `settings` names the options to check;
 * - `invalid`: an answer or callback failed verification (bad signature, malformed, another
 *   merchant's): never trusted.
 */

export type WechatPayErrorKind = 'ambiguous' | 'rejected' | 'later' | 'config' | 'invalid';

/**
 * The merchant settings the protocol layer can blame, by the names of its own options
 * (`WechatPayV2ClientOptions`, `Code2SessionOptions`, and APIv3's signer: the merchant
 * private key and its certificate serial). An application maps them to its own
 * configuration; the protocol layer knows nothing of how that is spelt.
 */
export const WECHATPAY_SETTINGS = [
  'appId',
  'appSecret',
  'mchId',
  'apiKey',
  'signType',
  'clientCertificate',
  'baseUrl',
  'backupBaseUrl',
  'privateKey',
  'serialNo',
  // What verifies WeChat's APIv3 signatures: its public key and id, or its platform certificates.
  'platformKey',
] as const;
export type WechatPaySetting = (typeof WECHATPAY_SETTINGS)[number];

export interface WechatPayErrorOptions {
  cause?: unknown;
  description?: string;
  settings?: readonly WechatPaySetting[];
}

export class WechatPayError extends Error {
  override readonly name = 'WechatPayError';
  constructor(
    readonly kind: WechatPayErrorKind,
    /** err_code, errcode, or a stable code of minipay's own (TIMEOUT, BAD_SIGNATURE, ...). */
    readonly code: string,
    message: string,
    options?: WechatPayErrorOptions,
  ) {
    super(message, options);
    this.description = options?.description;
    this.settings = options?.settings ?? [];
  }

  /** WeChat's own words (err_code_des, return_msg, errmsg), when it gave any. */
  readonly description: string | undefined;

  /**
   * The settings that, if wrong, explain this error (most likely first); empty when none
   * does. Set on `config` errors, and on `invalid` ones a wrong key also explains.
   */
  readonly settings: readonly WechatPaySetting[];

  get retryable(): boolean {
    return this.kind === 'ambiguous';
  }

  /** An answer (or callback) that failed its signature check: see `UNVERIFIED_CODES`. */
  get unverified(): boolean {
    return this.kind === 'invalid' && UNVERIFIED_CODES.has(this.code);
  }
}

/**
 * The codes of a message refused because its signature could not be checked or did not verify
 * (v2's BAD_SIGNATURE; v3's header, timestamp and key checks, verify.ts and certificates.ts),
 * as opposed to one that verified but says something malformed. WeChat may have acted on the
 * request all the same; what to check is the verification key and the clock.
 */
export const UNVERIFIED_CODES: ReadonlySet<string> = new Set([
  'BAD_SIGNATURE',
  'UNKNOWN_SERIAL',
  'STALE_TIMESTAMP',
  'BAD_TIMESTAMP',
  'SIGN_PROBE',
  'MISSING_HEADER',
  'DUPLICATE_HEADER',
  'UNSUPPORTED_SIGNATURE_TYPE',
  'CERTIFICATE_NOT_VALID',
]);

interface Advice {
  kind: WechatPayErrorKind;
  advice: string;
  settings?: readonly WechatPaySetting[];
}

const CHECK_KEY = 'check the APIv2 key and the sign type';
const KEY_SETTINGS: readonly WechatPaySetting[] = ['apiKey', 'signType'];

const ambiguous = (advice: string): Advice => ({ kind: 'ambiguous', advice });
const rejected = (advice: string): Advice => ({ kind: 'rejected', advice });
const later = (advice: string): Advice => ({ kind: 'later', advice });
const config = (advice: string, settings: readonly WechatPaySetting[] = []): Advice => ({
  kind: 'config',
  advice,
  settings,
});

/** Every documented v2 err_code: its kind and what to do about it. */
export const V2_ERR_CODES: Readonly<Record<string, Advice>> = {
  SYSTEMERROR: ambiguous('WeChat is busy; retry with the same parameters'),
  BIZERR_NEED_RETRY: ambiguous('retry the refund with the same out_refund_no'),
  INVALID_REQUEST: rejected(
    'the parameters are wrong, or differ from an earlier call with the same number',
  ),
  NOAUTH: config('the merchant lacks this API permission; apply for it'),
  NOTENOUGH: rejected('the balance is not enough'),
  ORDERPAID: rejected('the order is already paid; query it'),
  ORDERCLOSED: rejected('the order is closed; use a new out_trade_no'),
  ORDERNOTEXIST: rejected('WeChat has no such order; check out_trade_no'),
  TRADE_STATE_ERROR: rejected('the order is in a state that forbids this'),
  APPID_NOT_EXIST: config('check the AppID', ['appId']),
  MCHID_NOT_EXIST: config('check mch_id', ['mchId']),
  APPID_MCHID_NOT_MATCH: config(
    'the AppID is not bound to this merchant; check the AppID and mch_id',
    ['appId', 'mchId'],
  ),
  LACK_PARAMS: rejected('a required parameter is missing'),
  OUT_TRADE_NO_USED: rejected('this out_trade_no was used for another order; use a new one'),
  SIGNERROR: config(CHECK_KEY, KEY_SETTINGS),
  XML_FORMAT_ERROR: rejected('the request XML was refused'),
  REQUIRE_POST_METHOD: rejected('use POST'),
  POST_DATA_EMPTY: rejected('the request body was empty'),
  NOT_UTF8: rejected('send UTF-8'),
  TRADE_OVERDUE: rejected('the order is too old to refund (1 year)'),
  ERROR: rejected('WeChat refused the refund; see the description'),
  USER_ACCOUNT_ABNORMAL: rejected("the payer's account is abnormal; refund offline"),
  INVALID_REQ_TOO_MUCH: rejected('too many invalid requests; slow down'),
  INVALID_TRANSACTIONID: rejected('check transaction_id'),
  PARAM_ERROR: rejected('a parameter is wrong'),
  FREQUENCY_LIMITED: rejected('too frequent; refunds of one order must be at least a minute apart'),
  REFUNDNOTEXIST: rejected('WeChat has no such refund; check out_refund_no'),
  REFUND_FEE_MISMATCH: rejected(
    'the amounts differ from an earlier refund with this out_refund_no',
  ),
};

/**
 * Where an err_code means something else than in `V2_ERR_CODES`. At `/secapi/pay/refund`,
 * NOTENOUGH is the merchant's balance (余额不足, or 交易未结算资金不足 with the default
 * refund_account) and FREQUENCY_LIMITED the one-minute gap between refunds of one order:
 * both pass, and WeChat's rule is to retry the SAME out_refund_no later (docs/wechat-rules.md).
 * At `/pay/unifiedorder` NOTENOUGH is the payer's balance: `rejected`.
 */
const ENDPOINT_ERR_CODES: Readonly<Record<string, Readonly<Record<string, Advice>>>> = {
  '/secapi/pay/refund': {
    NOTENOUGH: later(
      'the merchant balance cannot cover the refund now; it is retried later with the same out_refund_no (top up, or configure refund_account)',
    ),
    FREQUENCY_LIMITED: later(
      'refunds of one order must be at least a minute apart; retry later with the same out_refund_no',
    ),
  },
};

/** A refund refused for want of funds, whatever err_code carries it (the words are observed). */
const FUNDS_SHORT = /余额不足|资金不足/;

/** A `result_code=FAIL` answer as a typed error. Unknown codes are `rejected`. */
export function errCodeError(endpoint: string, errCode: string, des?: string): WechatPayError {
  const atEndpoint = ENDPOINT_ERR_CODES[endpoint];
  const fundsShort = atEndpoint && des && FUNDS_SHORT.test(des) ? atEndpoint.NOTENOUGH : undefined;
  const known = atEndpoint?.[errCode] ?? fundsShort ?? V2_ERR_CODES[errCode];
  const kind = known?.kind ?? 'rejected';
  const advice = known?.advice ?? 'see WeChat Pay’s error table';
  const said = des ? ` (${des})` : '';
  return new WechatPayError(kind, errCode, `${endpoint}: ${errCode}${said}: ${advice}`, {
    description: des,
    settings: known?.settings,
  });
}

/**
 * A `return_code=FAIL` answer (unsigned, before WeChat authenticated us) as a typed error.
 * The code is derived from `return_msg`: 签名错误 / SIGN ERROR → SIGNERROR (config), a busy
 * system → SYSTEMERROR (ambiguous); anything else is a refusal of the request (`rejected`).
 */
export function returnFailError(endpoint: string, returnMsg: string | undefined): WechatPayError {
  const msg = returnMsg ?? '';
  if (/签名错误|sign\s*error/i.test(msg)) {
    return new WechatPayError('config', 'SIGNERROR', `${endpoint}: ${msg}: ${CHECK_KEY}`, {
      description: msg,
      settings: KEY_SETTINGS,
    });
  }
  if (/mch_id|appid|证书|certificate/i.test(msg)) {
    return new WechatPayError(
      'config',
      'RETURN_FAIL',
      `${endpoint}: ${msg}: check the merchant setup (AppID, mch_id, client certificate)`,
      { description: msg, settings: ['appId', 'mchId', 'clientCertificate'] },
    );
  }
  if (/SYSTEMERROR|系统繁忙|system error/i.test(msg)) {
    return new WechatPayError('ambiguous', 'SYSTEMERROR', `${endpoint}: ${msg}: retry`, {
      description: msg,
    });
  }
  return new WechatPayError(
    'rejected',
    'RETURN_FAIL',
    `${endpoint}: WeChat refused the request: ${msg || '(no return_msg)'}`,
    { description: msg },
  );
}

/**
 * Typed errors of the mini program server APIs (api.weixin.qq.com). Every failure is a
 * `MiniProgramApiError` whose `kind` says what the caller may do next:
 * - `retryable`: WeChat is busy, rate-limited, or the answer was lost (timeout, network, HTTP
 *   5xx): the same call may succeed later; `retryAfterMs`, when set, says how much later;
 * - `token-invalid`: the access_token was refused (40001, 40014, 42001): refresh it and retry
 *   once (`TokenManager.withToken` does);
 * - `rejected`: WeChat refused this request and will refuse it again (bad order, user refused);
 * - `config`: the setup is wrong (AppSecret, IP whitelist, permissions): a person must act;
 * - `invalid`: an answer or a push failed verification or is malformed: never trusted.
 * The errcode table, with the WeChat page each line comes from, is in docs/miniprogram-api.md.
 */

export type MiniProgramApiErrorKind =
  | 'retryable'
  | 'token-invalid'
  | 'rejected'
  | 'config'
  | 'invalid';

export class MiniProgramApiError extends Error {
  override readonly name = 'MiniProgramApiError';
  /** WeChat's errcode when WeChat gave one. */
  readonly errcode: number | undefined;
  /** WeChat's errmsg (shortened), when WeChat gave one. */
  readonly errmsg: string | undefined;
  /** How long to wait before the same call can succeed, when known. */
  readonly retryAfterMs: number | undefined;

  constructor(
    readonly kind: MiniProgramApiErrorKind,
    /** The errcode as a string, or a stable code of minipay's own (TIMEOUT, BAD_SIGNATURE, ...). */
    readonly code: string,
    message: string,
    options: { cause?: unknown; errcode?: number; errmsg?: string; retryAfterMs?: number } = {},
  ) {
    super(message, { cause: options.cause });
    this.errcode = options.errcode;
    this.errmsg = options.errmsg;
    this.retryAfterMs = options.retryAfterMs;
  }

  get retryable(): boolean {
    return this.kind === 'retryable';
  }
}

interface Advice {
  kind: MiniProgramApiErrorKind;
  advice: string;
}

const BUSY: Advice = { kind: 'retryable', advice: 'WeChat is busy; retry shortly' };
const FIX_REQUEST = 'minipay should have refused this request before sending it; report it';

/** Every errcode minipay knows, with its kind and what to do (docs/miniprogram-api.md). */
export const ERRCODES: Readonly<Record<number, Advice>> = {
  [-1]: BUSY,
  40001: {
    kind: 'token-invalid',
    advice: 'the access_token is invalid or not the latest; refresh it and retry',
  },
  40014: { kind: 'token-invalid', advice: 'the access_token is invalid; refresh it and retry' },
  42001: { kind: 'token-invalid', advice: 'the access_token expired; refresh it and retry' },
  41001: { kind: 'config', advice: 'the access_token is missing from the request; report it' },
  40002: { kind: 'config', advice: 'grant_type must be client_credential; report it' },
  40003: { kind: 'rejected', advice: 'the openid is empty or not of this mini program' },
  40013: { kind: 'config', advice: 'the AppID is wrong; check MINIPAY_APPID' },
  40125: { kind: 'config', advice: 'the AppSecret is wrong; check MINIPAY_APPSECRET' },
  41002: { kind: 'config', advice: 'the AppID is missing; set MINIPAY_APPID' },
  41004: { kind: 'config', advice: 'the AppSecret is missing; set MINIPAY_APPSECRET' },
  40164: {
    kind: 'config',
    advice:
      "this server's IP address is not in the mini program's IP whitelist (开发管理 → 开发设置 → IP白名单); add it",
  },
  89503: {
    kind: 'config',
    advice: 'WeChat asks an administrator to confirm calls from this IP address; confirm it',
  },
  61004: { kind: 'config', advice: "this server's IP address is not whitelisted; add it" },
  61003: { kind: 'config', advice: 'the service provider is not authorised for this API' },
  61011: { kind: 'config', advice: 'the service provider is invalid; check the access_token' },
  48001: {
    kind: 'config',
    advice: 'the mini program has no permission for this API; enable it in the admin console',
  },
  43002: { kind: 'config', advice: `the API needs POST; ${FIX_REQUEST}` },
  44002: { kind: 'rejected', advice: `the POST body was empty; ${FIX_REQUEST}` },
  47001: { kind: 'rejected', advice: `WeChat could not read the request body; ${FIX_REQUEST}` },
  40097: { kind: 'rejected', advice: 'a parameter is invalid (the appid?); check the request' },
  45009: {
    kind: 'retryable',
    advice:
      "the API's daily quota is used up; calls resume after midnight Beijing time (an administrator can reset the quota with clearQuota)",
  },
  45011: { kind: 'retryable', advice: 'too many calls this minute; retry next minute' },
  44990: { kind: 'retryable', advice: 'too many calls; slow down and retry' },
  40029: { kind: 'rejected', advice: 'the code is invalid or expired; ask the user again' },
  // Subscribe messages (subscribeMessage.send).
  40037: { kind: 'rejected', advice: 'the template_id is wrong; check the configured template' },
  43101: {
    kind: 'rejected',
    advice: 'the user did not subscribe to this template (or used up the subscription)',
  },
  43108: {
    kind: 'retryable',
    advice: 'another message to the same user is being sent; retry shortly',
  },
  47003: {
    kind: 'rejected',
    advice: 'a template value breaks its type rule; errmsg names the field',
  },
  41030: {
    kind: 'rejected',
    advice: 'the page does not exist in the released mini program; check the configured page',
  },
  // Shipping information (发货信息管理).
  10060001: {
    kind: 'rejected',
    advice:
      'WeChat has no such payment: check transaction_id, or mchid + out_trade_no (payments made in DevTools are not managed)',
  },
  10060002: {
    kind: 'rejected',
    advice: 'the payment is already fully shipped; read its state with get_order',
  },
  10060003: {
    kind: 'rejected',
    advice: 'the one allowed correction of the shipping info is used; nothing more can change',
  },
  10060004: {
    kind: 'rejected',
    advice: 'the payment cannot be shipped in its state (refunded, settled?); read get_order',
  },
  10060005: { kind: 'rejected', advice: `logistics_type is invalid; ${FIX_REQUEST}` },
  10060006: {
    kind: 'rejected',
    advice: `split delivery is for express (logistics_type 1) only; ${FIX_REQUEST}`,
  },
  10060007: {
    kind: 'rejected',
    advice: `split delivery needs is_all_delivered; ${FIX_REQUEST}`,
  },
  10060008: { kind: 'rejected', advice: `item_desc is empty; ${FIX_REQUEST}` },
  10060009: { kind: 'rejected', advice: `item_desc is longer than 120 characters; ${FIX_REQUEST}` },
  10060011: { kind: 'rejected', advice: 'last_index is invalid; restart the listing' },
  10060012: BUSY,
  10060014: { kind: 'rejected', advice: 'a parameter is wrong; errmsg says which' },
  10060019: BUSY,
  10060020: {
    kind: 'rejected',
    advice: `the shipment cannot complete without an item description; ${FIX_REQUEST}`,
  },
  10060023: {
    kind: 'rejected',
    advice: 'WeChat already has exactly this shipping info; nothing changed',
  },
  10060024: { kind: 'rejected', advice: `more than 15 parcels; ${FIX_REQUEST}` },
  10060025: { kind: 'rejected', advice: `express_company is too long; ${FIX_REQUEST}` },
  10060026: { kind: 'rejected', advice: `tracking_no is too long; ${FIX_REQUEST}` },
  10060028: {
    kind: 'rejected',
    advice: 'the payment is not in the shipped state; receipt can be reminded only once shipped',
  },
  10060029: {
    kind: 'rejected',
    advice: 'received_time is not after the shipping time; send the real signing time',
  },
  10060030: { kind: 'rejected', advice: 'the receipt reminder for this payment was already sent' },
  10060031: {
    kind: 'rejected',
    advice: "the payer openid is not this payment's payer; send the openid that paid",
  },
  10060032: {
    kind: 'rejected',
    advice: 'a receipt reminder is possible for express shipments (logistics_type 1) only',
  },
  268485194: { kind: 'rejected', advice: `order_number_type is invalid; ${FIX_REQUEST}` },
  268485195: { kind: 'rejected', advice: `transaction_id is missing; ${FIX_REQUEST}` },
  268485196: { kind: 'rejected', advice: `mchid is missing; ${FIX_REQUEST}` },
  268485197: { kind: 'rejected', advice: `out_trade_no is missing; ${FIX_REQUEST}` },
  268485216: { kind: 'rejected', advice: `upload_time is not RFC 3339; ${FIX_REQUEST}` },
  268485224: { kind: 'rejected', advice: `delivery_mode is invalid; ${FIX_REQUEST}` },
  268485226: { kind: 'rejected', advice: `tracking_no is missing; ${FIX_REQUEST}` },
  268485227: { kind: 'rejected', advice: `express_company is missing; ${FIX_REQUEST}` },
  268485228: {
    kind: 'rejected',
    advice: `unified delivery takes exactly one parcel; ${FIX_REQUEST}`,
  },
};

/** Where an errcode means something else than in `ERRCODES`, by API path. */
const AT_ENDPOINT: Readonly<Record<string, Readonly<Record<number, Advice>>>> = {
  // At the token endpoint 40001 is "AppSecret wrong", not a stale token: refreshing would loop.
  '/cgi-bin/stable_token': {
    40001: { kind: 'config', advice: 'the AppSecret is wrong; check MINIPAY_APPSECRET' },
    45009: {
      kind: 'retryable',
      advice:
        'the daily quota of stable_token is used up (forced refreshes: 20 a day); it resumes after midnight Beijing time',
    },
  },
  '/wxa/business/getuserphonenumber': {
    45011: { kind: 'retryable', advice: 'too many phone number requests; retry in a minute' },
  },
};

const BEIJING_OFFSET_MS = 8 * 3600_000;

/** Milliseconds from `now` to the next midnight in Beijing (when daily quotas reset). */
export function msUntilBeijingMidnight(now: number): number {
  const day = 86_400_000;
  return day - ((now + BEIJING_OFFSET_MS) % day);
}

/** The Beijing calendar day of `now`, `YYYY-MM-DD`: the unit of WeChat's daily quotas. */
export function beijingDay(now: number): string {
  return new Date(now + BEIJING_OFFSET_MS).toISOString().slice(0, 10);
}

/** The kind and advice for `errcode` at `endpoint`; unknown codes are `rejected`. */
export function errcodeAdvice(endpoint: string, errcode: number): Advice | undefined {
  return AT_ENDPOINT[endpoint]?.[errcode] ?? ERRCODES[errcode];
}

/** A WeChat `{errcode, errmsg}` answer as a typed error. */
export function errcodeError(
  endpoint: string,
  errcode: number,
  errmsg: string,
  now: number = Date.now(),
): MiniProgramApiError {
  const known = errcodeAdvice(endpoint, errcode);
  const kind = known?.kind ?? 'rejected';
  const advice = known?.advice ?? 'not in minipay’s errcode table; see the API’s page';
  const said = shorten(errmsg);
  const retryAfterMs =
    errcode === 45009 ? msUntilBeijingMidnight(now) : errcode === 45011 ? 60_000 : undefined;
  return new MiniProgramApiError(
    kind,
    String(errcode),
    `${endpoint}: errcode ${errcode}${said ? ` (${said})` : ''}: ${advice}`,
    { errcode, errmsg: said, retryAfterMs },
  );
}

/** WeChat's errmsg as it may go into a log line: printable, at most 200 characters. */
export function shorten(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: they are what is removed
  const clean = text.replace(/[\u0000-\u001f\u007f]/g, ' ');
  return clean.length > 200 ? `${clean.slice(0, 200)}…` : clean;
}

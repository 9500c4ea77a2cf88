/**
 * Fault injection settings: what goes wrong on purpose. The same shape is accepted by
 * `startSandbox({ faults })`, `sandbox.setFaults()` and `POST /sandbox/v1/faults`; a change is
 * merged into the current settings (the per-endpoint maps key by key) and echoed back.
 */

/** The APIv3 paths, named by WeChat's templates (one name for every out_trade_no). */
export const V3_ENDPOINTS = [
  '/v3/pay/transactions/jsapi',
  '/v3/pay/transactions/out-trade-no/{out_trade_no}',
  '/v3/pay/transactions/id/{transaction_id}',
  '/v3/pay/transactions/out-trade-no/{out_trade_no}/close',
  '/v3/refund/domestic/refunds',
  '/v3/refund/domestic/refunds/{out_refund_no}',
  '/v3/certificates',
  '/v3/bill/tradebill',
  '/v3/bill/fundflowbill',
  '/v3/billdownload/file',
] as const;
export type V3Endpoint = (typeof V3_ENDPOINTS)[number];

/**
 * How a v3 answer's signature can be spoiled on its way (a proxy, a wrong platform key, a
 * replay): each is what the merchant's verification must refuse (docs/sandbox.md, "APIv3").
 */
export const ANSWER_SIGNATURE_FAULTS = [
  'BAD_SIGNATURE',
  'UNKNOWN_SERIAL',
  'STALE_TIMESTAMP',
  'SIGN_PROBE',
] as const;
export type AnswerSignatureFault = (typeof ANSWER_SIGNATURE_FAULTS)[number];

/** The api.mch.weixin.qq.com paths (APIv2 and APIv3), served on both domains. */
const MCH_ENDPOINTS = [
  '/pay/unifiedorder',
  '/pay/orderquery',
  '/pay/closeorder',
  '/secapi/pay/refund',
  '/pay/refundquery',
  '/pay/downloadbill',
  '/pay/downloadfundflow',
  ...V3_ENDPOINTS,
] as const;
export type MchEndpoint = (typeof MCH_ENDPOINTS)[number];
/** The APIv2 (XML) paths. */
export type V2Endpoint = Exclude<MchEndpoint, V3Endpoint>;

/** The mini program platform's JSON paths (api.weixin.qq.com, platform/). */
export const PLATFORM_ENDPOINTS = [
  '/cgi-bin/stable_token',
  '/wxa/sec/order/upload_shipping_info',
  '/wxa/sec/order/get_order',
  '/wxa/sec/order/get_order_list',
  '/wxa/sec/order/is_trade_managed',
  '/wxa/sec/order/notify_confirm_receive',
  '/cgi-bin/express/delivery/open_msg/get_delivery_list',
  '/cgi-bin/message/subscribe/send',
  '/wxa/business/getuserphonenumber',
] as const;
export type PlatformEndpoint = (typeof PLATFORM_ENDPOINTS)[number];

/** The WeChat paths whose answers can be made to fail. */
export const FAULT_ENDPOINTS = [
  '/sns/jscode2session',
  ...MCH_ENDPOINTS,
  ...PLATFORM_ENDPOINTS,
] as const;
export type FaultEndpoint = (typeof FAULT_ENDPOINTS)[number];

/** How the main domain fails while `primaryDomainFailure` is set (the backup keeps working). */
export const DOMAIN_FAILURES = ['none', 'reset', 'http503', 'hang'] as const;
export type DomainFailure = (typeof DOMAIN_FAILURES)[number];

/** How a refund ends once WeChat has processed it. */
export type RefundOutcome = 'SUCCESS' | 'CHANGE' | 'REFUNDCLOSE';
export const REFUND_OUTCOMES: readonly RefundOutcome[] = ['SUCCESS', 'CHANGE', 'REFUNDCLOSE'];

export interface Faults {
  /** Seeds every random choice below; the same seed and the same calls give the same faults. */
  seed: number;
  /** Each delivery attempt of a notification is lost on the way at this rate (0..1). */
  dropNotifyRate: number;
  /** Each delivery attempt is sent twice, the copies less than a second apart, at this rate. */
  duplicateNotifyRate: number;
  /** Real milliseconds added before the first attempt of every notification (not scaled). */
  delayNotifyMs: number;
  /** Holds new notifications until none has arrived for 1 s, then sends them newest first. */
  reorderNotifies: boolean;
  /** A payment succeeds but its notification is never sent, at this rate. */
  neverNotifyRate: number;
  /** Answer SYSTEMERROR (the platform's paths: errcode -1) without acting, at these rates. */
  systemErrorRate: Partial<Record<FaultEndpoint, number>>;
  /** Act, then never answer (the connection is dropped after `timeoutHoldMs`), at these rates. */
  timeoutRate: Partial<Record<FaultEndpoint, number>>;
  /**
   * The next N calls of a path answer `result_code=FAIL` with this `err_code`, without acting:
   * `{"/secapi/pay/refund": {"NOTENOUGH": 2}}`. Counts go down as they are used.
   */
  errCodes: Partial<Record<MchEndpoint, Record<string, number>>>;
  /**
   * The next N calls of a mini program platform path answer this errcode without acting:
   * `{"/wxa/sec/order/upload_shipping_info": {"45011": 2}}` (frequency limit twice).
   */
  platformErrcodes: Partial<Record<PlatformEndpoint, Record<string, number>>>;
  /**
   * The next N answers of a v3 path are sent with their signature spoiled this way, after the
   * call acted: `{"/v3/pay/transactions/jsapi": {"BAD_SIGNATURE": 1}}`.
   */
  answerSignatures: Partial<Record<V3Endpoint, Partial<Record<AnswerSignatureFault, number>>>>;
  /** The next N closeorder calls answer SUCCESS but leave the trade as it was (seen at WeChat). */
  closeLeavesNotpay: number;
  /** Signed answers of these paths leave out `appid` and `mch_id`, at these rates (seen at WeChat). */
  omitMerchantIdsRate: Partial<Record<V2Endpoint, number>>;
  /**
   * The main domain's api.mch paths fail: `reset` drops the connection, `http503` answers 503,
   * `hang` never answers; none of them acts. The backup domain (`backupPort`) keeps working.
   */
  primaryDomainFailure: DomainFailure;
  /**
   * The same for the main address's api.weixin.qq.com paths (`/sns/`, `/cgi-bin/`, `/wxa/`):
   * login, access_token, shipping, messages. The backup (api2.weixin.qq.com) keeps working.
   */
  primaryApiDomainFailure: DomainFailure;
  /** How long a "timed out" request is held open before its connection is dropped (real ms). */
  timeoutHoldMs: number;
  /** How accepted refunds end unless told otherwise per refund. */
  refundOutcome: RefundOutcome;
  /** WeChat time from refund accepted to its outcome, in ms (divided by timeScale). */
  refundDelayMs: number;
  /** Bills that disagree with what happened (for reconciliation); applied to every bill. */
  billRows: BillRowFaults;
}

/** How bills lie: rows left out, amounts changed, rows added. */
export interface BillRowFaults {
  /** out_trade_no (payment rows) or out_refund_no (refund rows) left out of the bills. */
  omit: string[];
  /**
   * out_trade_no → the 订单金额 (and 应结订单金额) its payment row states instead; out_refund_no →
   * the 申请退款金额 (and 退款金额) of its refund row. In fen.
   */
  amountFen: Record<string, number>;
  /** Payment rows of this merchant added to each bill, for trades that never happened. */
  extra: number;
  /** Payment rows of another merchant added to each bill. */
  foreign: number;
}

/** The defaults: nothing goes wrong, refunds succeed after 10 s of WeChat time. */
export function defaultFaults(seed: number): Faults {
  return {
    seed,
    dropNotifyRate: 0,
    duplicateNotifyRate: 0,
    delayNotifyMs: 0,
    reorderNotifies: false,
    neverNotifyRate: 0,
    systemErrorRate: {},
    timeoutRate: {},
    errCodes: {},
    platformErrcodes: {},
    answerSignatures: {},
    closeLeavesNotpay: 0,
    omitMerchantIdsRate: {},
    primaryDomainFailure: 'none',
    primaryApiDomainFailure: 'none',
    timeoutHoldMs: 30_000,
    refundOutcome: 'SUCCESS',
    refundDelayMs: 10_000,
    billRows: { omit: [], amountFen: {}, extra: 0, foreign: 0 },
  };
}

/** A fault setting that cannot be applied; the message says which and why. */
export class FaultsError extends Error {
  override readonly name = 'FaultsError';
}

const RATES = ['dropNotifyRate', 'duplicateNotifyRate', 'neverNotifyRate'] as const;
const DURATIONS = ['delayNotifyMs', 'timeoutHoldMs', 'refundDelayMs'] as const;
/** A day: longer delays are mistakes, and they would keep timers alive past any test. */
const MAX_DURATION_MS = 24 * 3600 * 1000;

/** Validates `change` (untrusted JSON) and returns `current` with it merged in. */
export function mergeFaults(current: Faults, change: unknown): Faults {
  if (typeof change !== 'object' || change === null || Array.isArray(change)) {
    throw new FaultsError('faults must be a JSON object');
  }
  const next: Faults = {
    ...current,
    systemErrorRate: { ...current.systemErrorRate },
    timeoutRate: { ...current.timeoutRate },
    errCodes: Object.fromEntries(
      Object.entries(current.errCodes).map(([path, codes]) => [path, { ...codes }]),
    ),
    omitMerchantIdsRate: { ...current.omitMerchantIdsRate },
    platformErrcodes: Object.fromEntries(
      Object.entries(current.platformErrcodes ?? {}).map(([path, codes]) => [path, { ...codes }]),
    ),
    answerSignatures: Object.fromEntries(
      Object.entries(current.answerSignatures ?? {}).map(([path, codes]) => [path, { ...codes }]),
    ),
    billRows: current.billRows ?? defaultFaults(0).billRows,
  };
  for (const [name, value] of Object.entries(change)) {
    if (value === undefined) continue;
    if ((RATES as readonly string[]).includes(name)) {
      next[name as (typeof RATES)[number]] = rate(name, value);
    } else if ((DURATIONS as readonly string[]).includes(name)) {
      next[name as (typeof DURATIONS)[number]] = duration(name, value);
    } else if (name === 'seed') {
      if (!Number.isSafeInteger(value) || (value as number) < 0 || (value as number) > 0xffffffff) {
        throw new FaultsError('seed must be a whole number from 0 to 4294967295');
      }
      next.seed = value as number;
    } else if (name === 'reorderNotifies') {
      if (typeof value !== 'boolean')
        throw new FaultsError('reorderNotifies must be true or false');
      next.reorderNotifies = value;
    } else if (name === 'refundOutcome') {
      if (!(REFUND_OUTCOMES as readonly unknown[]).includes(value)) {
        throw new FaultsError(`refundOutcome must be one of ${REFUND_OUTCOMES.join(', ')}`);
      }
      next.refundOutcome = value as RefundOutcome;
    } else if (name === 'systemErrorRate' || name === 'timeoutRate') {
      Object.assign(next[name], endpointRates(name, value, FAULT_ENDPOINTS));
    } else if (name === 'omitMerchantIdsRate') {
      Object.assign(next[name], endpointRates(name, value, V2_ONLY));
    } else if (name === 'errCodes') {
      mergeErrCodes(next.errCodes, value);
    } else if (name === 'answerSignatures') {
      mergeAnswerSignatures(next.answerSignatures, value);
    } else if (name === 'platformErrcodes') {
      mergePlatformErrcodes(next.platformErrcodes, value);
    } else if (name === 'closeLeavesNotpay') {
      next.closeLeavesNotpay = count(name, value);
    } else if (name === 'billRows') {
      next.billRows = billRowFaults(value);
    } else if (name === 'primaryDomainFailure' || name === 'primaryApiDomainFailure') {
      if (!(DOMAIN_FAILURES as readonly unknown[]).includes(value)) {
        throw new FaultsError(`${name} must be one of ${DOMAIN_FAILURES.join(', ')}`);
      }
      next[name] = value as DomainFailure;
    } else {
      throw new FaultsError(`unknown fault setting "${name}"`);
    }
  }
  return next;
}

/** Keys of trades and refunds (out_trade_no, out_refund_no): 1 to 64 printable ASCII. */
const BILL_KEY = /^[\x21-\x7e]{1,64}$/;
const MAX_BILL_KEYS = 100;

/** `billRows` replaces the current setting whole (an empty object clears it). */
function billRowFaults(value: unknown): BillRowFaults {
  const example = 'e.g. {"omit": ["T1"], "amountFen": {"T2": 1}, "extra": 1, "foreign": 1}';
  if (!isObject(value)) throw new FaultsError(`billRows must be an object, ${example}`);
  const out: BillRowFaults = { omit: [], amountFen: {}, extra: 0, foreign: 0 };
  for (const [name, v] of Object.entries(value)) {
    if (name === 'omit') {
      if (!Array.isArray(v) || v.length > MAX_BILL_KEYS || !v.every((k) => billKey(k))) {
        throw new FaultsError(
          `billRows.omit must be up to ${MAX_BILL_KEYS} order or refund numbers`,
        );
      }
      out.omit = [...v];
    } else if (name === 'amountFen') {
      const entries = isObject(v) ? Object.entries(v) : undefined;
      if (!entries || entries.length > MAX_BILL_KEYS) {
        throw new FaultsError(
          `billRows.amountFen must be an object of out_trade_no or out_refund_no → fen, ${example}`,
        );
      }
      for (const [key, fen] of entries) {
        if (!BILL_KEY.test(key))
          throw new FaultsError(
            `billRows.amountFen: "${key.slice(0, 40)}" is not an order or refund number`,
          );
        if (!Number.isSafeInteger(fen) || (fen as number) < 1 || (fen as number) > 1e10) {
          throw new FaultsError(
            `billRows.amountFen["${key}"] must be a whole number of fen from 1`,
          );
        }
        out.amountFen[key] = fen as number;
      }
    } else if (name === 'extra' || name === 'foreign') {
      out[name] = count(`billRows.${name}`, v);
    } else {
      throw new FaultsError(`billRows: unknown setting "${name.slice(0, 40)}", ${example}`);
    }
  }
  return out;
}

function billKey(key: unknown): key is string {
  return typeof key === 'string' && BILL_KEY.test(key);
}

function rate(name: string, value: unknown): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw new FaultsError(`${name} must be a number from 0 to 1`);
  }
  return value;
}

function duration(name: string, value: unknown): number {
  if (
    !Number.isSafeInteger(value) ||
    (value as number) < 0 ||
    (value as number) > MAX_DURATION_MS
  ) {
    throw new FaultsError(
      `${name} must be a whole number of milliseconds from 0 to ${MAX_DURATION_MS}`,
    );
  }
  return value as number;
}

/** omitMerchantIdsRate: a v3 answer's ids are in its signed JSON, never left out. */
const V2_ONLY = MCH_ENDPOINTS.filter((p) => !p.startsWith('/v3/'));
/** Longest count a fault may be armed with: more is a mistake. */
const MAX_COUNT = 1000;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function count(name: string, value: unknown): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0 || (value as number) > MAX_COUNT) {
    throw new FaultsError(`${name} must be a whole number from 0 to ${MAX_COUNT}`);
  }
  return value as number;
}

function knownPath(name: string, path: string, paths: readonly string[]): void {
  if (!paths.includes(path)) {
    throw new FaultsError(
      `${name}: unknown path "${path.slice(0, 40)}"; use one of ${paths.join(', ')}`,
    );
  }
}

function endpointRates(
  name: string,
  value: unknown,
  paths: readonly string[],
): Partial<Record<FaultEndpoint, number>> {
  if (!isObject(value)) {
    throw new FaultsError(
      `${name} must be an object of path → rate, e.g. {"/pay/orderquery": 0.1}`,
    );
  }
  const out: Partial<Record<FaultEndpoint, number>> = {};
  for (const [path, r] of Object.entries(value)) {
    knownPath(name, path, paths);
    out[path as FaultEndpoint] = rate(`${name}["${path}"]`, r);
  }
  return out;
}

/** Merges `{path: {ERR_CODE: n}}` into `into`; a count of 0 removes the code. */
function mergeErrCodes(into: Faults['errCodes'], value: unknown): void {
  const example = 'e.g. {"/secapi/pay/refund": {"NOTENOUGH": 2}}';
  if (!isObject(value))
    throw new FaultsError(`errCodes must be an object of path → codes, ${example}`);
  for (const [path, codes] of Object.entries(value)) {
    knownPath('errCodes', path, MCH_ENDPOINTS);
    if (!isObject(codes)) {
      throw new FaultsError(
        `errCodes["${path}"] must be an object of err_code → count, ${example}`,
      );
    }
    const merged = { ...into[path as MchEndpoint] };
    for (const [code, n] of Object.entries(codes)) {
      if (!/^[A-Z][A-Z0-9_]{0,31}$/.test(code)) {
        throw new FaultsError(`errCodes: "${code.slice(0, 40)}" is not an err_code (A-Z, 0-9, _)`);
      }
      const times = count(`errCodes["${path}"]["${code}"]`, n);
      if (times === 0) delete merged[code];
      else merged[code] = times;
    }
    into[path as MchEndpoint] = merged;
  }
}

/**
 * The err_code to answer a call of `path` with, and `faults` with its count spent; undefined
 * when none is armed. The first code still counting, in the order they were set.
 */
export function spendErrCode(
  faults: Faults,
  path: MchEndpoint,
): { errCode: string; faults: Faults } | undefined {
  const codes = faults.errCodes[path];
  const errCode = codes && Object.keys(codes).find((c) => (codes[c] ?? 0) > 0);
  if (!codes || errCode === undefined) return undefined;
  const left = { ...codes, [errCode]: codes[errCode]! - 1 };
  if (left[errCode] === 0) delete left[errCode];
  return { errCode, faults: { ...faults, errCodes: { ...faults.errCodes, [path]: left } } };
}

/** Merges `{v3 path: {BAD_SIGNATURE: n}}` into `into`; a count of 0 removes the fault. */
function mergeAnswerSignatures(into: Faults['answerSignatures'], value: unknown): void {
  const example = 'e.g. {"/v3/pay/transactions/jsapi": {"BAD_SIGNATURE": 1}}';
  if (!isObject(value)) {
    throw new FaultsError(`answerSignatures must be an object of path → faults, ${example}`);
  }
  for (const [path, faults] of Object.entries(value)) {
    knownPath('answerSignatures', path, V3_ENDPOINTS);
    if (!isObject(faults)) {
      throw new FaultsError(
        `answerSignatures["${path}"] must be an object of fault → count, ${example}`,
      );
    }
    const merged = { ...into[path as V3Endpoint] };
    for (const [fault, n] of Object.entries(faults)) {
      if (!(ANSWER_SIGNATURE_FAULTS as readonly string[]).includes(fault)) {
        throw new FaultsError(
          `answerSignatures: "${fault.slice(0, 40)}" is not one of ${ANSWER_SIGNATURE_FAULTS.join(', ')}`,
        );
      }
      const times = count(`answerSignatures["${path}"]["${fault}"]`, n);
      if (times === 0) delete merged[fault as AnswerSignatureFault];
      else merged[fault as AnswerSignatureFault] = times;
    }
    into[path as V3Endpoint] = merged;
  }
}

/** The signature fault armed for the next answer of a v3 `path`, and `faults` with it spent. */
export function spendAnswerSignature(
  faults: Faults,
  path: V3Endpoint,
): { fault: AnswerSignatureFault; faults: Faults } | undefined {
  const armed = faults.answerSignatures[path];
  const fault = armed && ANSWER_SIGNATURE_FAULTS.find((f) => (armed[f] ?? 0) > 0);
  if (!armed || fault === undefined) return undefined;
  const left = { ...armed, [fault]: armed[fault]! - 1 };
  if (left[fault] === 0) delete left[fault];
  return {
    fault,
    faults: { ...faults, answerSignatures: { ...faults.answerSignatures, [path]: left } },
  };
}

/** Merges `{path: {"45011": n}}` into `into`; a count of 0 removes the errcode. */
function mergePlatformErrcodes(into: Faults['platformErrcodes'], value: unknown): void {
  const example = 'e.g. {"/wxa/sec/order/upload_shipping_info": {"45011": 2}}';
  if (!isObject(value)) {
    throw new FaultsError(`platformErrcodes must be an object of path → errcodes, ${example}`);
  }
  for (const [path, codes] of Object.entries(value)) {
    knownPath('platformErrcodes', path, PLATFORM_ENDPOINTS);
    if (!isObject(codes)) {
      throw new FaultsError(
        `platformErrcodes["${path}"] must be an object of errcode → count, ${example}`,
      );
    }
    const merged = { ...into[path as PlatformEndpoint] };
    for (const [code, n] of Object.entries(codes)) {
      if (!/^-?[1-9][0-9]{0,9}$/.test(code)) {
        throw new FaultsError(`platformErrcodes: "${code.slice(0, 40)}" is not a non-zero errcode`);
      }
      const times = count(`platformErrcodes["${path}"]["${code}"]`, n);
      if (times === 0) delete merged[code];
      else merged[code] = times;
    }
    into[path as PlatformEndpoint] = merged;
  }
}

/** The errcode armed for the next call of a platform `path`, and `faults` with it spent. */
export function spendPlatformErrcode(
  faults: Faults,
  path: PlatformEndpoint,
): { errcode: number; faults: Faults } | undefined {
  const codes = faults.platformErrcodes[path];
  const code = codes && Object.keys(codes).find((c) => (codes[c] ?? 0) > 0);
  if (!codes || code === undefined) return undefined;
  const left = { ...codes, [code]: codes[code]! - 1 };
  if (left[code] === 0) delete left[code];
  return {
    errcode: Number(code),
    faults: { ...faults, platformErrcodes: { ...faults.platformErrcodes, [path]: left } },
  };
}

/**
 * The request/answer pipeline every APIv2 path shares: read the XML, authenticate the
 * merchant, apply endpoint faults, run the business handler, sign the answer.
 *
 * Which layer reports what (not documented by WeChat; decided here, docs/wechat-rules.md
 * "Two layers of failure", and in docs/sandbox.md):
 * - `return_code=FAIL` + `return_msg`, unsigned, for everything found before the request is
 *   authenticated: not POST, empty body, XML refused (DOCTYPE, oversized, malformed, not
 *   UTF-8), `mch_id`/`nonce_str`/`sign` missing or malformed, unknown `mch_id`, bad
 *   `sign_type`, wrong signature (`签名错误`). WeChat cannot sign an answer to a request it has
 *   not authenticated, and the observed messages (`签名错误`, `XML格式错误`) live at this layer.
 * - also `return_code=FAIL` for a value in the wrong format once authenticated, with the
 *   observed `invalid <field>` wording (`invalid total_fee`, `invalid refund_fee`: real
 *   answers quoted in community posts, e.g. refund_fee > total_fee).
 * - `return_code=SUCCESS`, signed with the request's sign type, `result_code=FAIL` +
 *   `err_code` for the rest: LACK_PARAMS (a required field missing), APPID_MCHID_NOT_MATCH
 *   and every business rule (ORDERPAID, INVALID_REQUEST "201 商户订单号重复", ...).
 * `downloadbill` answers errors in its own shape: `return_code=FAIL`, `return_msg`,
 * `error_code` (20002 for "No Bill Exist", 20001 for everything else).
 */
import {
  declaredSignType,
  decodeXml,
  encodeXml,
  nonce,
  type SignType,
  signV2,
  verifyV2,
  XmlError,
  type XmlFields,
} from '../wechatpay/index.js';
import type { Credentials } from './credentials.js';
import type { Faults, V2Endpoint } from './faults.js';
import type { SeededRandom } from './random.js';

/** Largest accepted request body (a real request is 1–2 KB; `detail` may add 6,000 characters). */
export const V2_MAX_BODY_BYTES = 64 * 1024;

/** An authenticated v2 request. */
export interface V2Request {
  fields: XmlFields;
  signType: SignType;
}

/** What a handler answers: business fields (result_code SUCCESS), or raw text (bills). */
export type V2Answer =
  | { type: 'ok'; fields: Readonly<Record<string, string | number | null | undefined>> }
  | { type: 'raw'; contentType: string; body: Buffer | string };

/** A business refusal: `result_code=FAIL` with this `err_code` (bills: `return_code=FAIL`). */
export class V2Refusal extends Error {
  override readonly name = 'V2Refusal';
  constructor(
    readonly errCode: string,
    readonly errCodeDes: string,
    /** downloadbill's numeric `error_code`. */
    readonly billErrorCode = '20001',
  ) {
    super(errCodeDes);
  }
}

/** A value in the wrong format: `return_code=FAIL` with this `return_msg`. */
export class V2Invalid extends Error {
  override readonly name = 'V2Invalid';
}

/** Shorthand for `throw new V2Invalid(...)`: `invalid('total_fee', 'a whole number of fen')`. */
export function invalid(field: string, hint: string): never {
  throw new V2Invalid(`invalid ${field} (${hint})`);
}

/** Shorthand for `throw new V2Refusal(...)` in handlers. */
export function refuse(errCode: string, errCodeDes: string, billErrorCode?: string): never {
  throw new V2Refusal(errCode, errCodeDes, billErrorCode);
}

/** The HTTP answer, plus whether the timeout fault chose to swallow it. */
export interface V2Response {
  statusCode: number;
  contentType: string;
  body: Buffer | string;
  /** The handler ran (state changed) but the caller must never receive this answer. */
  swallow: boolean;
}

export interface V2Context {
  credentials: Credentials;
  faults: Faults;
  random: SeededRandom;
  /** The err_code armed for this path by the `errCodes` fault (spending it), if any. */
  spendErrCode: (path: V2Endpoint) => string | undefined;
}

/** WeChat's words for the err_codes tests arm most (errCodes); others get a generic text. */
const ERR_CODE_DES: Readonly<Record<string, string>> = {
  NOTENOUGH: '基本账户余额不足，请充值后重新发起',
  FREQUENCY_LIMITED: '频率限制',
  SYSTEMERROR: '系统超时',
  BIZERR_NEED_RETRY: '退款业务流程错误，需要商户触发重试来解决',
  ORDERPAID: '该订单已支付',
  ORDERCLOSED: '该订单已关闭',
};

type Style = 'standard' | 'bill';

/** The paths that answer errors in downloadbill's shape. */
const BILL_ENDPOINTS: readonly V2Endpoint[] = ['/pay/downloadbill', '/pay/downloadfundflow'];

const XML_TYPE = 'text/xml; charset=utf-8';

/** Runs one v2 request through authentication, faults and `handler`. Never throws. */
export function handleV2(
  endpoint: V2Endpoint,
  method: string,
  body: Buffer | undefined,
  ctx: V2Context,
  handler: (request: V2Request) => V2Answer,
): V2Response {
  const style: Style = BILL_ENDPOINTS.includes(endpoint) ? 'bill' : 'standard';
  const auth = authenticate(method, body, ctx.credentials, style);
  if ('failure' in auth) return returnFail(auth.failure, style);
  const request = auth.request;
  const response = answer(endpoint, request, ctx, style, handler);
  // Any authenticated answer can be lost on the way back, business refusals included.
  const swallow = ctx.random.chance(`timeout:${endpoint}`, ctx.faults.timeoutRate[endpoint] ?? 0);
  return { ...response, swallow };
}

function answer(
  endpoint: V2Endpoint,
  request: V2Request,
  ctx: V2Context,
  style: Style,
  handler: (request: V2Request) => V2Answer,
): Omit<V2Response, 'swallow'> {
  const omit = ctx.random.chance(`omit:${endpoint}`, ctx.faults.omitMerchantIdsRate[endpoint] ?? 0);
  try {
    checkAppId(request.fields, ctx.credentials);
    const armed = ctx.spendErrCode(endpoint);
    if (armed !== undefined) {
      const des = ERR_CODE_DES[armed] ?? armed;
      refuse(armed, `${des} (sandbox fault: errCodes)`, '20001');
    }
    if (ctx.random.chance(`error:${endpoint}`, ctx.faults.systemErrorRate[endpoint] ?? 0)) {
      refuse('SYSTEMERROR', '系统繁忙，请稍后再试 (sandbox fault: systemErrorRate)', '20001');
    }
    const result = handler(request);
    if (result.type === 'raw') {
      return { statusCode: 200, contentType: result.contentType, body: result.body };
    }
    return signedAnswer(request, ctx.credentials, 'SUCCESS', result.fields, omit);
  } catch (err) {
    if (err instanceof V2Invalid) return returnFail(err.message, style);
    if (!(err instanceof V2Refusal)) throw err;
    if (style === 'bill') return returnFail(err.errCodeDes, style, err.billErrorCode);
    const fields = { err_code: err.errCode, err_code_des: err.errCodeDes };
    return signedAnswer(request, ctx.credentials, 'FAIL', fields, omit);
  }
}

type AuthResult = { request: V2Request } | { failure: string };

function authenticate(
  method: string,
  body: Buffer | undefined,
  credentials: Credentials,
  style: Style,
): AuthResult {
  const bill = style === 'bill';
  if (method !== 'POST')
    return { failure: bill ? 'data format error: use POST' : '请使用post方法' };
  if (!body || body.length === 0) return { failure: bill ? 'missing parameter' : 'post数据为空' };
  let fields: XmlFields;
  try {
    fields = decodeXml(body, { maxBytes: V2_MAX_BODY_BYTES });
  } catch (err) {
    if (!(err instanceof XmlError)) throw err;
    if (err.code === 'NOT_UTF8')
      return { failure: bill ? 'data format error' : '编码格式错误 (the body must be UTF-8)' };
    return { failure: `${bill ? 'data format error' : 'XML格式错误'}: ${err.message}` };
  }
  for (const name of ['mch_id', 'nonce_str', 'sign'] as const) {
    if (!fields[name]) return { failure: bill ? `missing parameter: ${name}` : `缺少参数${name}` };
  }
  if (fields.mch_id !== credentials.mchId) {
    return {
      failure: `${bill ? 'data format error' : 'mch_id参数错误'}: merchant ${fields.mch_id} does not exist here; this sandbox plays merchant ${credentials.mchId}`,
    };
  }
  if (fields.nonce_str!.length > 32) {
    return {
      failure: bill
        ? 'data format error: nonce_str'
        : 'nonce_str参数长度有误 (at most 32 characters)',
    };
  }
  const signType = declaredSignType(fields);
  if (!signType) {
    return {
      failure: bill ? 'data format error: sign_type' : 'sign_type参数格式错误 (MD5 or HMAC-SHA256)',
    };
  }
  if (!verifyV2(fields, credentials.mchKey, signType)) {
    return { failure: bill ? 'SIGN ERROR' : '签名错误' };
  }
  return { request: { fields, signType } };
}

function checkAppId(fields: XmlFields, credentials: Credentials): void {
  if (!fields.appid) refuse('LACK_PARAMS', '缺少参数appid', '20001');
  if (fields.appid !== credentials.appId) {
    refuse('APPID_MCHID_NOT_MATCH', 'appid和mch_id不匹配', '20001');
  }
}

function returnFail(message: string, style: Style, billErrorCode = '20001'): V2Response {
  const fields: Record<string, string> = { return_code: 'FAIL', return_msg: message };
  if (style === 'bill') fields.error_code = billErrorCode;
  return { statusCode: 200, contentType: XML_TYPE, body: encodeXml(fields), swallow: false };
}

function signedAnswer(
  request: V2Request,
  credentials: Credentials,
  resultCode: 'SUCCESS' | 'FAIL',
  extra: Readonly<Record<string, string | number | null | undefined>>,
  omitMerchantIds = false,
): Omit<V2Response, 'swallow'> {
  const fields: Record<string, string | number | null | undefined> = {
    return_code: 'SUCCESS',
    return_msg: 'OK',
    appid: omitMerchantIds ? undefined : credentials.appId,
    mch_id: omitMerchantIds ? undefined : credentials.mchId,
    nonce_str: nonce(),
    result_code: resultCode,
    ...extra,
  };
  fields.sign = signV2(fields, credentials.mchKey, request.signType);
  return { statusCode: 200, contentType: XML_TYPE, body: encodeXml(fields) };
}

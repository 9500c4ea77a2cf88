/**
 * The request/answer pipeline every APIv3 path shares: authenticate the merchant's signature,
 * read the JSON, apply endpoint faults, run the business handler, sign the answer.
 *
 * As WeChat (docs/wechat-rules.md, "APIv3 error answers"; docs/sandbox.md, "APIv3"):
 * - a request without `Accept` or `User-Agent`, or whose `Accept` refuses JSON: 400
 *   `INVALID_REQUEST` (a bill file excepted from the JSON rule);
 * - a request whose `Authorization` is missing, malformed, stale (5 minutes either way), made
 *   with another serial or not verifying with the merchant's public key: 401 `SIGN_ERROR`;
 *   another `mchid` in it: 400 `MCH_NOT_EXISTS`. Nothing is read further.
 * - a body that is not a JSON object: 400 `PARAM_ERROR`; a field in the wrong format: 400
 *   `PARAM_ERROR` with `detail: {field, location}`; business rules: their documented codes.
 * - every answer, refusals included, is signed by the platform (`Wechatpay-*` headers) with
 *   the key of the mode (v3-platform.ts), its timestamp real time (the merchant compares it
 *   with its own clock, whatever the sandbox clock says).
 */
import { WechatPayError } from '../wechatpay/errors.js';
import {
  type Json,
  probeSignature,
  signWechatpayHeaders,
  verifyAuthorization,
  type WechatpayHeaders,
} from '../wechatpay/v3/index.js';
import type { SandboxCore } from './core.js';
import type { AnswerSignatureFault, V3Endpoint } from './faults.js';

/** A request as received: method, path and query exactly as sent, raw body. */
export interface V3HttpRequest {
  method: string;
  url: string;
  authorization: string | undefined;
  /** `Accept` and `User-Agent`: WeChat refuses a request without them. */
  accept: string | undefined;
  userAgent: string | undefined;
  body: Buffer | undefined;
}

/** An authenticated v3 request: the JSON body (undefined for GET) and the query. */
export interface V3Request {
  json: Json | undefined;
  query: URLSearchParams;
}

/** What a handler answers: 200 with JSON, 204, or a file (a bill: WeChat does not sign it). */
export type V3Answer =
  | { status: 200; json: Json }
  | { status: 204 }
  | { status: 200; raw: Buffer; contentType: string };

/** A refusal: this HTTP status and `{code, message, detail?}`. */
export class V3Refusal extends Error {
  override readonly name = 'V3Refusal';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly detail?: Json,
  ) {
    super(message);
  }
}

/** Shorthand for `throw new V3Refusal(...)`. */
export function refuseV3(status: number, code: string, message: string, detail?: Json): never {
  throw new V3Refusal(status, code, message, detail);
}

/** A field in the wrong format: 400 PARAM_ERROR naming it. */
export function badField(field: string, rule: string): never {
  refuseV3(400, 'PARAM_ERROR', `参数错误: ${field} ${rule}`, { field, location: 'body' });
}

export interface V3Response {
  statusCode: number;
  headers: Record<string, string>;
  body: string | Buffer;
  /** The handler ran but the caller must never receive this answer (timeoutRate). */
  swallow: boolean;
}

/** The documented HTTP status of each code an armed `errCodes` fault may answer. */
const CODE_STATUS: Readonly<Record<string, number>> = {
  SYSTEM_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
  BANKERROR: 500,
  PARAM_ERROR: 400,
  INVALID_REQUEST: 400,
  ORDER_CLOSED: 400,
  APPID_MCHID_NOT_MATCH: 400,
  MCH_NOT_EXISTS: 400,
  SIGN_ERROR: 401,
  NO_AUTH: 403,
  ORDERPAID: 403,
  OUT_TRADE_NO_USED: 403,
  NOT_ENOUGH: 403,
  USER_ACCOUNT_ABNORMAL: 403,
  TRADE_ERROR: 403,
  RULE_LIMIT: 403,
  ORDER_NOT_EXIST: 404,
  RESOURCE_NOT_EXISTS: 404,
  FREQUENCY_LIMITED: 429,
  RATELIMIT_EXCEEDED: 429,
};

/** Statuses of codes not in the table: 400, as WeChat's generic refusal. */
export function codeStatus(code: string): number {
  return CODE_STATUS[code] ?? 400;
}

const MAX_BODY_BYTES = 64 * 1024;

/** Runs one v3 request through authentication, faults and `handler`. Never throws. */
export function handleV3(
  endpoint: V3Endpoint,
  request: V3HttpRequest,
  core: SandboxCore,
  handler: (request: V3Request) => V3Answer,
): V3Response {
  let answer: { status: number; json?: Json };
  let swallow = false;
  try {
    checkHeaders(endpoint, request);
    const authenticated = authenticate(request, core);
    const result = run(endpoint, authenticated, core, handler);
    const { faults, random } = core.faults;
    swallow = random.chance(`timeout:${endpoint}`, faults.timeoutRate[endpoint] ?? 0);
    if ('raw' in result) {
      const headers = { 'content-type': result.contentType, 'request-id': requestId() };
      return { statusCode: 200, headers, body: result.raw, swallow };
    }
    answer = result;
  } catch (err) {
    if (!(err instanceof V3Refusal)) throw err;
    answer = {
      status: err.status,
      json: { code: err.code, message: err.message, ...(err.detail ? { detail: err.detail } : {}) },
    };
  }
  return {
    ...signed(core, answer.status, answer.json, core.faults.spendAnswerSignature(endpoint)),
    swallow,
  };
}

function run(
  endpoint: V3Endpoint,
  request: V3Request,
  core: SandboxCore,
  handler: (request: V3Request) => V3Answer,
): { status: number; json?: Json } | { raw: Buffer; contentType: string } {
  const { faults, random } = core.faults;
  const armed = core.faults.spendErrCode(endpoint);
  if (armed !== undefined) {
    refuseV3(codeStatus(armed), armed, `${armed} (sandbox fault: errCodes)`);
  }
  if (random.chance(`error:${endpoint}`, faults.systemErrorRate[endpoint] ?? 0)) {
    refuseV3(500, 'SYSTEM_ERROR', '系统错误 (sandbox fault: systemErrorRate)');
  }
  const result = handler(request);
  if ('raw' in result) return { raw: result.raw, contentType: result.contentType };
  return result.status === 200 ? { status: 200, json: result.json } : { status: 204 };
}

/**
 * WeChat answers a request without `Accept` or `User-Agent` 400 INVALID_REQUEST "Http头缺少Accept
 * 或User-Agent" (docs/wechat-rules.md, "APIv3 request headers"). JSON paths want JSON: an
 * `Accept` that refuses it is refused the same way; a bill file may be asked for as anything.
 */
function checkHeaders(endpoint: V3Endpoint, request: V3HttpRequest): void {
  const missing = !request.accept?.trim() || !request.userAgent?.trim();
  const json = endpoint === BILL_FILE || acceptsJson(request.accept ?? '');
  if (!missing && json) return;
  refuseV3(
    400,
    'INVALID_REQUEST',
    missing
      ? 'Http头缺少Accept或User-Agent'
      : `Http头Accept须为application/json (got ${JSON.stringify(request.accept!.slice(0, 60))})`,
  );
}

const BILL_FILE: V3Endpoint = '/v3/billdownload/file';

function acceptsJson(accept: string): boolean {
  return accept
    .split(',')
    .map((range) => range.split(';')[0]!.trim().toLowerCase())
    .some((type) => type === 'application/json' || type === 'application/*' || type === '*/*');
}

function authenticate(request: V3HttpRequest, core: SandboxCore): V3Request {
  const body = request.body ?? Buffer.alloc(0);
  const v3 = core.v3;
  try {
    verifyAuthorization({
      header: request.authorization,
      method: request.method,
      url: request.url,
      body,
      publicKeyFor: (mchId, serial) =>
        mchId === core.credentials.mchId ? v3.merchantKeyFor(serial) : undefined,
    });
  } catch (err) {
    if (!(err instanceof WechatPayError)) throw err;
    const mchId = /mchid="([^"]*)"/.exec(request.authorization ?? '')?.[1];
    if (err.code === 'UNKNOWN_SERIAL' && mchId !== undefined && mchId !== core.credentials.mchId) {
      refuseV3(
        400,
        'MCH_NOT_EXISTS',
        `商户号不存在: merchant ${mchId.slice(0, 32)} does not exist here; this sandbox plays merchant ${core.credentials.mchId}`,
      );
    }
    refuseV3(401, 'SIGN_ERROR', `签名错误: ${err.message}`);
  }
  const query = new URL(request.url, 'http://sandbox').searchParams;
  if (request.method === 'GET') return { json: undefined, query };
  return { json: readJson(body), query };
}

function readJson(body: Buffer): Json {
  if (body.length > MAX_BODY_BYTES) {
    refuseV3(400, 'PARAM_ERROR', `请求体过大: at most ${MAX_BODY_BYTES} bytes`);
  }
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    refuseV3(400, 'PARAM_ERROR', '请求体不是合法的JSON (the body must be a JSON object)');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    refuseV3(400, 'PARAM_ERROR', '请求体不是JSON对象 (the body must be a JSON object)');
  }
  return value as Json;
}

/** An answer signed by the platform key of the mode (its signature spoiled by `fault`). */
function signed(
  core: SandboxCore,
  status: number,
  json: Json | undefined,
  fault?: AnswerSignatureFault,
): Omit<V3Response, 'swallow'> {
  const body = json === undefined ? '' : JSON.stringify(json);
  const signer = core.v3.signer(core.faults.random);
  // Six minutes old: outside WeChat's five-minute window.
  const timestamp =
    fault === 'STALE_TIMESTAMP' ? String(Math.floor(Date.now() / 1000) - 360) : undefined;
  const headers: Record<string, string> = {
    ...spoiled(signWechatpayHeaders(signer, body, { timestamp }), fault),
    'request-id': requestId(),
  };
  if (body) headers['content-type'] = 'application/json; charset=utf-8';
  return { statusCode: status, headers, body };
}

/** The headers as the `answerSignatures` fault sends them. */
function spoiled(headers: WechatpayHeaders, fault?: AnswerSignatureFault): WechatpayHeaders {
  if (fault === 'SIGN_PROBE') return { ...headers, 'Wechatpay-Signature': probeSignature() };
  if (fault === 'UNKNOWN_SERIAL') return { ...headers, 'Wechatpay-Serial': UNKNOWN_SERIAL };
  if (fault === 'BAD_SIGNATURE') {
    // Another nonce than the one signed: the signature no longer covers what is sent.
    return { ...headers, 'Wechatpay-Nonce': `${headers['Wechatpay-Nonce']}0` };
  }
  return headers;
}

/** A serial no key of the sandbox has (a certificate of another platform). */
const UNKNOWN_SERIAL = '5157F09EFDC096DE15EBE81A47057A7232F1B8E1';

let sequence = 0;

/** WeChat's `Request-ID`, which its support asks for: unique per answer. */
function requestId(): string {
  sequence = (sequence + 1) % 1_000_000;
  return `08${Date.now().toString(16).toUpperCase()}${String(sequence).padStart(6, '0')}`;
}

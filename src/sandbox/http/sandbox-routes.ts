/**
 * The sandbox's own JSON API under `/sandbox/v1`: it plays the user (`wx.login`,
 * `wx.requestPayment`), the merchant portal (refunds made there) and the test harness (faults,
 * delivery log, trade inspection, clock). Errors are `{ error: { code, message } }` as in
 * docs/http-api.md. Nothing here returns a key or a secret.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { SandboxEngine } from '../engine.js';
import { FaultsError, REFUND_OUTCOMES, type RefundOutcome } from '../faults.js';
import { UserPaymentError, type UserPaymentRequest } from '../user-payment.js';
import { V2Refusal } from '../v2-endpoint.js';
import { cashierPage } from './cashier-page.js';

/** JSON bodies of the sandbox API are small; 16 KiB is plenty. */
export const SANDBOX_API_MAX_BODY_BYTES = 16 * 1024;
/** Longest clock jump in one call: 400 days (enough to pass the 1-year refund window). */
const MAX_ADVANCE_MS = 400 * 24 * 3600 * 1000;

/** An API error with its HTTP status. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function bodyObject(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new ApiError(400, 'VALIDATION_FAILED', 'the body must be a JSON object');
  }
  return body as Record<string, unknown>;
}

function allowOnly(body: Record<string, unknown>, names: readonly string[]): void {
  for (const name of Object.keys(body)) {
    if (!names.includes(name)) {
      throw new ApiError(
        400,
        'VALIDATION_FAILED',
        `unknown field "${name.slice(0, 40)}"; expected ${names.join(', ')}`,
      );
    }
  }
}

function optionalString(
  body: Record<string, unknown>,
  name: string,
  max = 256,
): string | undefined {
  const v = body[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.length === 0 || v.length > max) {
    throw new ApiError(
      400,
      'VALIDATION_FAILED',
      `${name} must be a non-empty string of at most ${max} characters`,
    );
  }
  return v;
}

function optionalInt(
  body: Record<string, unknown>,
  name: string,
  min: number,
  max: number,
): number | undefined {
  const v = body[name];
  if (v === undefined) return undefined;
  if (!Number.isSafeInteger(v) || (v as number) < min || (v as number) > max) {
    throw new ApiError(
      400,
      'VALIDATION_FAILED',
      `${name} must be a whole number from ${min} to ${max}`,
    );
  }
  return v as number;
}

function optionalOutcome(body: Record<string, unknown>, name: string): RefundOutcome | undefined {
  const v = body[name];
  if (v === undefined) return undefined;
  if (!(REFUND_OUTCOMES as readonly unknown[]).includes(v)) {
    throw new ApiError(
      400,
      'VALIDATION_FAILED',
      `${name} must be one of ${REFUND_OUTCOMES.join(', ')}`,
    );
  }
  return v as RefundOutcome;
}

function notFound(what: string): ApiError {
  return new ApiError(404, 'NOT_FOUND', `${what} does not exist in this sandbox`);
}

/** A business rule of WeChat refused the request: 409 for state, 422 for amounts. */
function refusal(err: V2Refusal): ApiError {
  if (err.errCode === 'ORDERNOTEXIST')
    return new ApiError(404, 'NOT_FOUND', 'no such trade in this sandbox');
  const status = ['ERROR', 'INVALID_REQUEST', 'REFUND_FEE_MISMATCH'].includes(err.errCode)
    ? 422
    : 409;
  return new ApiError(status, err.errCode, err.errCodeDes);
}

export async function sandboxRoutes(
  app: FastifyInstance,
  { engine }: { engine: SandboxEngine },
): Promise<void> {
  app.setErrorHandler((err: Error & { code?: string; statusCode?: number }, _request, reply) => {
    if (err instanceof ApiError) return sendError(reply, err.status, err.code, err.message);
    if (err instanceof UserPaymentError) return sendError(reply, err.status, err.code, err.message);
    if (err instanceof FaultsError) return sendError(reply, 400, 'VALIDATION_FAILED', err.message);
    if (err instanceof V2Refusal) {
      const e = refusal(err);
      return sendError(reply, e.status, e.code, e.message);
    }
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return sendError(
        reply,
        413,
        'PAYLOAD_TOO_LARGE',
        `the body is larger than ${SANDBOX_API_MAX_BODY_BYTES} bytes`,
      );
    }
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return sendError(
        reply,
        415,
        'UNSUPPORTED_MEDIA_TYPE',
        'send JSON with Content-Type: application/json',
      );
    }
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      return sendError(reply, 400, 'VALIDATION_FAILED', 'the body is not valid JSON');
    }
    reply.log.error({ err }, 'sandbox API failure');
    return sendError(reply, 500, 'INTERNAL', 'the sandbox failed; see its log');
  });

  app.post('/sandbox/v1/login-code', async (request) => {
    const body = bodyObject(request.body);
    allowOnly(body, ['openid']);
    const openid = optionalString(body, 'openid', 128);
    if (openid !== undefined && !/^[A-Za-z0-9_-]+$/.test(openid)) {
      throw new ApiError(400, 'VALIDATION_FAILED', 'openid must be letters, digits, _ or -');
    }
    return engine.loginCode(openid);
  });

  app.post('/sandbox/v1/pay', async (request) => {
    const body = bodyObject(request.body);
    allowOnly(body, [
      'openid',
      'appId',
      'timeStamp',
      'nonceStr',
      'package',
      'signType',
      'paySign',
      'result',
      'notify',
      'bankType',
    ]);
    if (body.notify !== undefined && typeof body.notify !== 'boolean') {
      throw new ApiError(400, 'VALIDATION_FAILED', 'notify must be true or false');
    }
    for (const name of [
      'openid',
      'appId',
      'timeStamp',
      'nonceStr',
      'package',
      'signType',
      'paySign',
      'result',
      'bankType',
    ]) {
      if (body[name] !== undefined) optionalString(body, name, 256);
    }
    return engine.pay(body as unknown as UserPaymentRequest);
  });

  app.get('/sandbox/v1/faults', async () => engine.core.faults.faults);
  app.post('/sandbox/v1/faults', async (request) => engine.setFaults(bodyObject(request.body)));

  app.get('/sandbox/v1/notifications', async (request) => {
    const query = request.query as Record<string, unknown>;
    const outTradeNo = typeof query.outTradeNo === 'string' ? query.outTradeNo : undefined;
    const all = engine.notifications();
    return { notifications: outTradeNo ? all.filter((n) => n.outTradeNo === outTradeNo) : all };
  });

  app.get('/sandbox/v1/trades/:outTradeNo', async (request) => {
    const { outTradeNo } = request.params as { outTradeNo: string };
    const trade = engine.trade(outTradeNo);
    if (!trade) throw notFound('this trade');
    return { trade };
  });

  app.post('/sandbox/v1/trades/:outTradeNo/expire-prepay', async (request) => {
    const { outTradeNo } = request.params as { outTradeNo: string };
    allowOnly(bodyObject(request.body), []);
    if (!engine.expirePrepay(outTradeNo)) throw notFound('this trade');
    return { trade: engine.trade(outTradeNo) };
  });

  app.post('/sandbox/v1/trades/:outTradeNo/refunds', async (request, reply) => {
    const { outTradeNo } = request.params as { outTradeNo: string };
    const body = bodyObject(request.body);
    allowOnly(body, ['refundFen', 'outRefundNo', 'refundDesc', 'notifyUrl', 'outcome', 'delayMs']);
    const refundFen = optionalInt(body, 'refundFen', 1, 10_000_000_000);
    if (refundFen === undefined)
      throw new ApiError(400, 'VALIDATION_FAILED', 'refundFen is required');
    const notifyUrl = optionalString(body, 'notifyUrl', 256);
    if (notifyUrl !== undefined && !/^https?:\/\/[^?]+$/.test(notifyUrl)) {
      throw new ApiError(
        400,
        'VALIDATION_FAILED',
        'notifyUrl must be an http(s) URL without a query string',
      );
    }
    const outRefundNo = optionalString(body, 'outRefundNo', 64);
    if (outRefundNo !== undefined && !/^[0-9A-Za-z_\-|*@]+$/.test(outRefundNo)) {
      throw new ApiError(
        400,
        'VALIDATION_FAILED',
        'outRefundNo must be 1 to 64 of 0-9 a-z A-Z _ - | * @',
      );
    }
    const refund = engine.portalRefund({
      outTradeNo,
      refundFee: refundFen,
      outRefundNo,
      refundDesc: optionalString(body, 'refundDesc', 80),
      notifyUrl,
      outcome: optionalOutcome(body, 'outcome'),
      delayMs: optionalInt(body, 'delayMs', 0, 24 * 3600 * 1000),
    });
    return reply.code(201).send({ refund });
  });

  app.get('/sandbox/v1/refunds/:outRefundNo', async (request) => {
    const { outRefundNo } = request.params as { outRefundNo: string };
    const refund = engine.refund(outRefundNo);
    if (!refund) throw notFound('this refund');
    return { refund };
  });

  app.post('/sandbox/v1/refunds/:outRefundNo/settle', async (request) => {
    const { outRefundNo } = request.params as { outRefundNo: string };
    const body = bodyObject(request.body);
    allowOnly(body, ['status']);
    const settled = engine.settleRefund(outRefundNo, optionalOutcome(body, 'status'));
    if (!settled) throw notFound('this refund');
    if (!settled.changed) {
      throw new ApiError(
        409,
        'REFUND_SETTLED',
        `the refund has already settled as ${settled.refund.status}`,
      );
    }
    return { refund: settled.refund };
  });

  app.get('/sandbox/v1/prepays/:prepayId', async (request) => {
    const { prepayId } = request.params as { prepayId: string };
    const prepay = engine.prepay(prepayId);
    if (!prepay) throw notFound('this prepay_id');
    return { prepay };
  });

  app.get('/sandbox/v1/clock', async () => ({
    now: new Date(engine.core.clock.now()).toISOString(),
    offsetMs: engine.core.clock.offset,
  }));
  app.post('/sandbox/v1/clock', async (request) => {
    const body = bodyObject(request.body);
    allowOnly(body, ['advanceMs']);
    const advanceMs = optionalInt(body, 'advanceMs', 0, MAX_ADVANCE_MS);
    if (advanceMs === undefined)
      throw new ApiError(400, 'VALIDATION_FAILED', 'advanceMs is required');
    engine.advanceClock(advanceMs);
    return {
      now: new Date(engine.core.clock.now()).toISOString(),
      offsetMs: engine.core.clock.offset,
    };
  });

  app.get('/sandbox/v1/cashier', async (_request, reply) => {
    const nonce = randomBytes(16).toString('base64');
    return reply
      .type('text/html; charset=utf-8')
      .header(
        'content-security-policy',
        `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; base-uri 'none'; form-action 'none'`,
      )
      .header('referrer-policy', 'no-referrer')
      .send(cashierPage(nonce));
  });
}

function sendError(
  reply: FastifyReply,
  status: number,
  code: string,
  message: string,
): FastifyReply {
  return reply.code(status).send({ error: { code, message } });
}

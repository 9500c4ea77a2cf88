/**
 * The APIv3 paths of api.mch.weixin.qq.com, at WeChat's own paths so that any v3 SDK works
 * unmodified: JSAPI prepay, the two queries, close, refund create and query,
 * `/v3/certificates`, the trade bill and its download. Bodies reach the pipeline (v3-endpoint.ts) as raw bytes, whatever the
 * Content-Type, because the signature covers the bytes as sent; capped at 64 KiB. Served on
 * the backup domain too; the main domain's paths fail while `primaryDomainFailure` is set.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { certificatesAnswer } from '../../wechatpay/v3/index.js';
import type { SandboxEngine } from '../engine.js';
import type { V3Endpoint } from '../faults.js';
import {
  applyFundFlowBill,
  applyTradeBill,
  BILL_DOWNLOAD_PATH,
  downloadBillFile,
} from '../v3-bills.js';
import { handleV3, refuseV3, type V3Answer, type V3Request } from '../v3-endpoint.js';
import { createRefund, queryRefund } from '../v3-refunds.js';
import { closeTrade, prepayJsapi, queryByOutTradeNo, queryByTransactionId } from '../v3-trades.js';
import type { HeldSockets } from './held-sockets.js';
import { type DomainRole, failDomain } from './wechat-routes.js';

type Params = Record<string, string>;
type Handler = (
  engine: SandboxEngine,
  request: V3Request,
  params: Params,
  origin: string,
) => V3Answer;

const MAX_BODY_BYTES = 64 * 1024;

/** Every v3 path: method, Fastify route, the fault name (WeChat's template), handler. */
export const V3_ROUTES: ReadonlyArray<readonly ['GET' | 'POST', string, V3Endpoint, Handler]> = [
  [
    'POST',
    '/v3/pay/transactions/jsapi',
    '/v3/pay/transactions/jsapi',
    (e, r) => prepayJsapi(e.core, r),
  ],
  [
    'GET',
    '/v3/pay/transactions/out-trade-no/:no',
    '/v3/pay/transactions/out-trade-no/{out_trade_no}',
    (e, r, p) => queryByOutTradeNo(e.core, r, p.no!),
  ],
  [
    'GET',
    '/v3/pay/transactions/id/:id',
    '/v3/pay/transactions/id/{transaction_id}',
    (e, r, p) => queryByTransactionId(e.core, r, p.id!),
  ],
  [
    'POST',
    '/v3/pay/transactions/out-trade-no/:no/close',
    '/v3/pay/transactions/out-trade-no/{out_trade_no}/close',
    (e, r, p) => closeTrade(e.core, r, p.no!),
  ],
  [
    'POST',
    '/v3/refund/domestic/refunds',
    '/v3/refund/domestic/refunds',
    (e, r) => createRefund(e.core, e.refunds, r),
  ],
  [
    'GET',
    '/v3/refund/domestic/refunds/:no',
    '/v3/refund/domestic/refunds/{out_refund_no}',
    (e, _r, p) => queryRefund(e.core, e.refunds, p.no!),
  ],
  ['GET', '/v3/certificates', '/v3/certificates', (e) => certificates(e)],
  [
    'GET',
    '/v3/bill/tradebill',
    '/v3/bill/tradebill',
    (e, r, _p, o) => applyTradeBill(e.core, r, o),
  ],
  [
    'GET',
    '/v3/bill/fundflowbill',
    '/v3/bill/fundflowbill',
    (e, r, _p, o) => applyFundFlowBill(e.core, r, o),
  ],
  ['GET', BILL_DOWNLOAD_PATH, '/v3/billdownload/file', (e, r) => downloadBillFile(e.core, r)],
];

/** `/v3/certificates`: the platform certificates, encrypted; none for a public-key merchant. */
function certificates(engine: SandboxEngine): V3Answer {
  const { v3 } = engine.core;
  const list = v3.certificates();
  if (list.length === 0) {
    refuseV3(
      404,
      'RESOURCE_NOT_EXISTS',
      '无可用的平台证书 (this merchant verifies with the WeChat Pay public key: GET /sandbox/v1/v3/platform)',
    );
  }
  return { status: 200, json: certificatesAnswer(list, v3.apiV3Key) };
}

export async function v3Routes(
  app: FastifyInstance,
  { engine, held, role }: { engine: SandboxEngine; held: HeldSockets; role: DomainRole },
): Promise<void> {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    '*',
    { parseAs: 'buffer', bodyLimit: MAX_BODY_BYTES },
    (_request, body, done) => done(null, body),
  );
  // Body too large, bad Content-Length, aborted upload: a v3 refusal, nothing read or changed.
  app.setErrorHandler((err: { code?: string }, _request, reply) => {
    const message =
      err.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
        ? `请求体过大: at most ${MAX_BODY_BYTES} bytes`
        : '请求体无法读取 (the body could not be read)';
    return reply.code(400).send({ code: 'PARAM_ERROR', message });
  });

  for (const [method, url, endpoint, handler] of V3_ROUTES) {
    app.route({
      method,
      url,
      handler: async (request: FastifyRequest, reply: FastifyReply) => {
        const down = role === 'primary' ? engine.core.faults.faults.primaryDomainFailure : 'none';
        if (down !== 'none') return failDomain(down, reply, held, engine);
        const response = handleV3(
          endpoint,
          {
            method: request.method,
            url: request.url,
            authorization: single(request.headers.authorization),
            accept: single(request.headers.accept),
            userAgent: single(request.headers['user-agent']),
            body: Buffer.isBuffer(request.body) ? request.body : undefined,
          },
          engine.core,
          (r) =>
            handler(engine, r, request.params as Params, `${request.protocol}://${request.host}`),
        );
        if (response.swallow) return held.swallow(reply, engine.core.faults.faults.timeoutHoldMs);
        return reply.code(response.statusCode).headers(response.headers).send(response.body);
      },
    });
  }
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * The WeChat-compatible paths: `GET /sns/jscode2session` (api.weixin.qq.com) and the APIv2
 * XML paths (api.mch.weixin.qq.com). Bodies reach the handlers as raw bytes, whatever the
 * Content-Type (WeChat reads any body as XML), capped at 64 KiB. The same paths are served on
 * the backup domain's port (api2.mch.weixin.qq.com) over the same state; the main domain's
 * api.mch paths fail while the `primaryDomainFailure` fault is set.
 */
import type { TLSSocket } from 'node:tls';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { encodeXml } from '../../wechatpay/index.js';
import { downloadBill } from '../bills.js';
import type { SandboxEngine } from '../engine.js';
import type { DomainFailure, FaultEndpoint, V2Endpoint } from '../faults.js';
import { downloadFundFlow } from '../fund-flow-bills.js';
import { type Code2SessionQuery, code2Session, error as loginError } from '../login.js';
import { closeOrder, orderQuery, unifiedOrder } from '../trades.js';
import { handleV2, V2_MAX_BODY_BYTES, type V2Answer, type V2Request } from '../v2-endpoint.js';
import type { HeldSockets } from './held-sockets.js';

type V2Handler = (engine: SandboxEngine, request: V2Request) => V2Answer;

/** Which WeChat domain a listener plays. */
export type DomainRole = 'primary' | 'backup';

/** Every v2 path the sandbox serves, with its handler. */
export const V2_ROUTES: ReadonlyArray<readonly [V2Endpoint, V2Handler]> = [
  ['/pay/unifiedorder', (e, r) => unifiedOrder(e.core, r)],
  ['/pay/orderquery', (e, r) => orderQuery(e.core, r)],
  ['/pay/closeorder', (e, r) => closeOrder(e.core, r)],
  ['/secapi/pay/refund', (e, r) => e.refunds.handleRefund(r)],
  ['/pay/refundquery', (e, r) => e.refunds.handleRefundQuery(r)],
  ['/pay/downloadbill', (e, r) => downloadBill(e.core, r)],
  ['/pay/downloadfundflow', (e, r) => downloadFundFlow(e.core, r)],
];

/** The paths WeChat serves only to a merchant presenting its API client certificate. */
const CERTIFICATE_PATHS: readonly V2Endpoint[] = ['/secapi/pay/refund', '/pay/downloadfundflow'];

const ALL_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** Registers the WeChat paths in their own scope (raw body parser, WeChat-style errors). */
export async function wechatRoutes(
  app: FastifyInstance,
  {
    engine,
    held,
    requireClientCert,
    role,
  }: { engine: SandboxEngine; held: HeldSockets; requireClientCert: boolean; role: DomainRole },
): Promise<void> {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    '*',
    { parseAs: 'buffer', bodyLimit: V2_MAX_BODY_BYTES },
    (_request, body, done) => done(null, body),
  );

  // Body too large, bad Content-Length, aborted upload: answered the way WeChat answers a bad
  // body, never with a Fastify error page, and nothing was read or changed.
  app.setErrorHandler((err: { code?: string; statusCode?: number }, request, reply) => {
    if (request.url.startsWith('/sns/')) {
      return reply.code(200).send(loginError(-1, 'system error'));
    }
    const message =
      err.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
        ? `XML格式错误: the body is larger than ${V2_MAX_BODY_BYTES} bytes`
        : 'XML格式错误: the body could not be read';
    return reply
      .code(200)
      .type('text/xml; charset=utf-8')
      .send(encodeXml({ return_code: 'FAIL', return_msg: message }));
  });

  app.get('/sns/jscode2session', async (request, reply) => {
    const faults = engine.core.faults;
    const endpoint: FaultEndpoint = '/sns/jscode2session';
    if (faults.random.chance(`error:${endpoint}`, faults.faults.systemErrorRate[endpoint] ?? 0)) {
      return reply.send(loginError(-1, 'system error'));
    }
    const answer = code2Session(engine.core, request.query as Code2SessionQuery);
    if (faults.random.chance(`timeout:${endpoint}`, faults.faults.timeoutRate[endpoint] ?? 0)) {
      return held.swallow(reply, faults.faults.timeoutHoldMs);
    }
    return reply.send(answer);
  });

  for (const [path, handler] of V2_ROUTES) {
    app.route({
      method: [...ALL_METHODS],
      url: path,
      handler: async (request: FastifyRequest, reply: FastifyReply) => {
        const down = role === 'primary' ? engine.core.faults.faults.primaryDomainFailure : 'none';
        if (down !== 'none') return failDomain(down, reply, held, engine);
        if (requireClientCert && CERTIFICATE_PATHS.includes(path) && !clientCertified(request)) {
          return reply
            .code(200)
            .type('text/xml; charset=utf-8')
            .send(
              encodeXml({
                return_code: 'FAIL',
                return_msg:
                  '证书错误: this path needs the merchant API client certificate (one signed by the CA the sandbox was started with)',
              }),
            );
        }
        const body = Buffer.isBuffer(request.body) ? request.body : undefined;
        const { core } = engine;
        const context = {
          credentials: core.credentials,
          faults: core.faults.faults,
          random: core.faults.random,
          spendErrCode: (p: V2Endpoint) => core.faults.spendErrCode(p),
        };
        const response = handleV2(path, request.method, body, context, (r) => handler(engine, r));
        if (response.swallow) return held.swallow(reply, engine.core.faults.faults.timeoutHoldMs);
        return reply.code(response.statusCode).type(response.contentType).send(response.body);
      },
    });
  }
}

/** The main domain is down: nothing is read or done; the backup domain serves the same state. */
export function failDomain(
  failure: Exclude<DomainFailure, 'none'>,
  reply: FastifyReply,
  held: HeldSockets,
  engine: SandboxEngine,
  fault = 'primaryDomainFailure',
) {
  if (failure === 'http503') {
    return reply
      .code(503)
      .type('text/html; charset=utf-8')
      .send(`<html><body>503 Service Unavailable (sandbox fault: ${fault})</body></html>`);
  }
  if (failure === 'hang') return held.swallow(reply, engine.core.faults.faults.timeoutHoldMs);
  reply.hijack();
  reply.raw.socket?.destroy();
  return reply;
}

/**
 * Whether the connection presented a client certificate that the configured CA signed.
 * `authorized` alone is not enough: on a resumed TLS session of a client that sent no
 * certificate, Node reports `authorized: true` (seen with undici and Node 20), so the peer
 * certificate itself must be there too.
 */
function clientCertified(request: FastifyRequest): boolean {
  const socket = request.raw.socket as Partial<TLSSocket>;
  if (socket.authorized !== true || typeof socket.getPeerCertificate !== 'function') return false;
  const peer = socket.getPeerCertificate();
  return (peer?.raw?.length ?? 0) > 0;
}

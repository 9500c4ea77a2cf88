/**
 * The sandbox's own JSON API under `/sandbox/v1`: it plays the user (`wx.login`,
 * `wx.requestPayment`), the merchant portal (refunds made there) and the test harness (faults,
 * delivery log, trade inspection, clock) and WeChat's v3 platform (its public material,
 * rotation, signature probes); the mini program platform's part is in platform-api-routes.ts.
 * Requests are validated by the schemas of api-schemas.ts; errors are
 * `{ error: { code, message } }` (api-errors.ts). Nothing here returns a key or a secret except
 * `/sandbox/v1/v3/merchant`: demo material the sandbox generated itself.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { SandboxEngine } from '../engine.js';
import { ApiError, found, notFound, sendApiError } from './api-errors.js';
import {
  ClockBody,
  FaultsBody,
  LoginCodeBody,
  NoBody,
  NotificationsQuery,
  PayBody,
  PortalRefundBody,
  PrepayParams,
  ProbeBody,
  RefundParams,
  SettleBody,
  TradeParams,
} from './api-schemas.js';
import { cashierPage } from './cashier-page.js';
import { platformApiRoutes } from './platform-api-routes.js';

export const sandboxRoutes: FastifyPluginAsyncTypebox<{ engine: SandboxEngine }> = async (
  app,
  { engine },
) => {
  app.setErrorHandler(sendApiError);
  // A POST without a body (curl -X POST) is an empty JSON object, as it always was.
  app.addHook('preValidation', async (request) => {
    request.body ??= {};
  });

  app.post('/sandbox/v1/login-code', { schema: { body: LoginCodeBody } }, async (request) =>
    engine.loginCode(request.body.openid),
  );

  app.post('/sandbox/v1/pay', { schema: { body: PayBody } }, async (request) =>
    engine.pay(request.body),
  );

  app.get('/sandbox/v1/v3/platform', async () => engine.core.v3.view());

  app.post('/sandbox/v1/v3/rotate', { schema: { body: NoBody } }, async () => engine.rotateV3());

  // Demo material only: a merchant that gave its own public key keeps its private key.
  app.get('/sandbox/v1/v3/merchant', async () => {
    const demo = engine.core.v3.demoMerchant;
    if (!demo) {
      throw new ApiError(
        404,
        'NOT_FOUND',
        'the sandbox was given the merchant public key (--mch-public-key): there is no demo merchant key to hand out',
      );
    }
    return { mchId: engine.core.credentials.mchId, ...demo };
  });

  app.post('/sandbox/v1/v3/probe', { schema: { body: ProbeBody } }, async (request) =>
    engine.probe(request.body.url),
  );

  app.get('/sandbox/v1/faults', async () => engine.core.faults.faults);
  app.post('/sandbox/v1/faults', { schema: { body: FaultsBody } }, async (request) =>
    engine.setFaults(request.body),
  );

  app.get(
    '/sandbox/v1/notifications',
    { schema: { querystring: NotificationsQuery } },
    async (request) => {
      const { outTradeNo } = request.query;
      const all = engine.notifications();
      return { notifications: outTradeNo ? all.filter((n) => n.outTradeNo === outTradeNo) : all };
    },
  );

  app.get(
    '/sandbox/v1/trades/:outTradeNo',
    { schema: { params: TradeParams } },
    async (request) => ({ trade: found(engine.trade(request.params.outTradeNo), 'this trade') }),
  );

  app.post(
    '/sandbox/v1/trades/:outTradeNo/expire-prepay',
    { schema: { params: TradeParams, body: NoBody } },
    async (request) => {
      const { outTradeNo } = request.params;
      if (!engine.expirePrepay(outTradeNo)) throw notFound('this trade');
      return { trade: engine.trade(outTradeNo) };
    },
  );

  app.post(
    '/sandbox/v1/trades/:outTradeNo/refunds',
    { schema: { params: TradeParams, body: PortalRefundBody } },
    async (request, reply) => {
      const { refundFen, ...rest } = request.body;
      const refund = engine.portalRefund({
        outTradeNo: request.params.outTradeNo,
        refundFee: refundFen,
        ...rest,
      });
      return reply.code(201).send({ refund });
    },
  );

  app.get(
    '/sandbox/v1/refunds/:outRefundNo',
    { schema: { params: RefundParams } },
    async (request) => ({
      refund: found(engine.refund(request.params.outRefundNo), 'this refund'),
    }),
  );

  app.post(
    '/sandbox/v1/refunds/:outRefundNo/settle',
    { schema: { params: RefundParams, body: SettleBody } },
    async (request) => {
      const settled = found(
        engine.settleRefund(request.params.outRefundNo, request.body.status),
        'this refund',
      );
      if (!settled.changed) {
        throw new ApiError(
          409,
          'REFUND_SETTLED',
          `the refund has already settled as ${settled.refund.status}`,
        );
      }
      return { refund: settled.refund };
    },
  );

  app.get(
    '/sandbox/v1/prepays/:prepayId',
    { schema: { params: PrepayParams } },
    async (request) => ({
      prepay: found(engine.prepay(request.params.prepayId), 'this prepay_id'),
    }),
  );

  const clock = () => ({
    now: new Date(engine.core.clock.now()).toISOString(),
    offsetMs: engine.core.clock.offset,
  });
  app.get('/sandbox/v1/clock', async () => clock());
  app.post('/sandbox/v1/clock', { schema: { body: ClockBody } }, async (request) => {
    engine.advanceClock(request.body.advanceMs);
    return clock();
  });

  await app.register(platformApiRoutes, { engine });

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
};

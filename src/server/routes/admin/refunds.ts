/**
 * Admin refunds (docs/http-api.md): ask for one on an order, list them, and for a refund
 * WeChat refused for now, send it again now or give it up.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@fastify/type-provider-typebox';
import type { ServerOptions } from '../../options.js';
import {
  errorResponses,
  RefundAnswer,
  RefundBody,
  RefundList,
  RefundListQuery,
  RefundOnly,
} from '../../schemas.js';

const secured = [{ bearer: [] }];
const OrderIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const RefundIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

export const adminRefundRoutes: FastifyPluginAsyncTypebox<ServerOptions> = async (app, options) => {
  const { payments } = options;

  app.post(
    '/orders/:id/refunds',
    {
      schema: {
        tags: ['admin'],
        security: secured,
        params: OrderIdParams,
        body: RefundBody,
        response: { 201: RefundAnswer, ...errorResponses },
      },
    },
    async (request, reply) => {
      const key = request.headers['idempotency-key'];
      const { status, body } = await payments.refunds.request(
        request.params.id,
        { amountFen: request.body.amountFen, reason: request.body.reason ?? null },
        typeof key === 'string' ? key : undefined,
      );
      return reply.code(status).send(body);
    },
  );

  app.get(
    '/refunds',
    {
      schema: {
        tags: ['admin'],
        security: secured,
        querystring: RefundListQuery,
        response: { 200: RefundList, ...errorResponses },
      },
    },
    async (request) =>
      payments.refunds.list({
        status: request.query.status,
        orderId: request.query.orderId,
        limit: request.query.limit === undefined ? 50 : Number(request.query.limit),
        cursor: request.query.cursor,
      }),
  );

  const action = (summary: string) => ({
    schema: {
      tags: ['admin'],
      summary,
      security: secured,
      params: RefundIdParams,
      response: { 200: RefundOnly, ...errorResponses },
    },
  });

  app.post(
    '/refunds/:id/retry',
    action('send a PENDING refund to WeChat again now, with its own out_refund_no'),
    async (request) => ({ refund: await payments.refunds.retryNow(request.params.id) }),
  );

  app.post(
    '/refunds/:id/give-up',
    action('give a PENDING refund up (FAILED, amount free) once WeChat confirms it has none'),
    async (request) => ({ refund: await payments.refunds.giveUp(request.params.id) }),
  );
};

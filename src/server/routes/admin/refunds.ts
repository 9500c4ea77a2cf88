/**
 * Admin refunds (docs/http-api.md): ask for one on an order, list them, and for a refund
 * WeChat refused for now, send it again now or give it up.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  IdParams,
  RefundAnswer,
  RefundBody,
  RefundList,
  RefundListQuery,
  RefundOnly,
} from '../../../contract/index.js';
import type { ServerOptions } from '../../options.js';
import { adminRoute } from './schema.js';

export const adminRefundRoutes: FastifyPluginAsyncTypebox<ServerOptions> = async (app, options) => {
  const { refunds } = options.payments;

  app.post(
    '/orders/:id/refunds',
    {
      schema: adminRoute({ params: IdParams, body: RefundBody, response: { 201: RefundAnswer } }),
    },
    async (request, reply) => {
      const key = request.headers['idempotency-key'];
      const { status, body } = await refunds.request(
        request.params.id,
        { amountFen: request.body.amountFen, reason: request.body.reason ?? null },
        typeof key === 'string' ? key : undefined,
      );
      // A replay answers with the status stored with the key: 201 too.
      return reply.code(status as 201).send(body);
    },
  );

  app.get(
    '/refunds',
    { schema: adminRoute({ querystring: RefundListQuery, response: { 200: RefundList } }) },
    async (request) => refunds.list(request.query),
  );

  const action = (summary: string) =>
    adminRoute({ summary, params: IdParams, response: { 200: RefundOnly } });

  app.post(
    '/refunds/:id/retry',
    { schema: action('send a PENDING refund to WeChat again now, with its own out_refund_no') },
    async (request) => ({ refund: await refunds.retryNow(request.params.id) }),
  );

  app.post(
    '/refunds/:id/give-up',
    {
      schema: action(
        'give a PENDING refund up (FAILED, amount free) once WeChat confirms it has none',
      ),
    },
    async (request) => ({ refund: await refunds.giveUp(request.params.id) }),
  );
};

/**
 * Admin subscribe messages (docs/shipping.md "Subscribe messages"): what was sent on payments
 * and refunds, what WeChat refused, what waits for another attempt; all, or one order's.
 * Without subscribe messages configured the lists are empty.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { pageQuery } from '../../../contract/common.js';
import { IdParams, SubscribeMessageList, SubscribeMessageQuery } from '../../../contract/index.js';
import type { ServerOptions } from '../../options.js';
import { adminRoute } from './schema.js';

const OrderMessagesQuery = Type.Object(pageQuery, { additionalProperties: false });

export const adminMessageRoutes: FastifyPluginAsyncTypebox<ServerOptions> = async (
  app,
  options,
) => {
  const list = (query: SubscribeMessageQuery) =>
    options.payments.subscribeMessages?.list(query) ?? { messages: [], nextCursor: null };

  app.get(
    '/subscribe-messages',
    {
      schema: adminRoute({
        querystring: SubscribeMessageQuery,
        response: { 200: SubscribeMessageList },
      }),
    },
    async (request) => list(request.query),
  );

  app.get(
    '/orders/:id/subscribe-messages',
    {
      schema: adminRoute({
        params: IdParams,
        querystring: OrderMessagesQuery,
        response: { 200: SubscribeMessageList },
      }),
    },
    async (request) => list({ ...request.query, orderId: request.params.id }),
  );
};

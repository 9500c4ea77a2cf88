/** Admin webhook deliveries (docs/http-api.md, docs/webhooks.md): list them, replay one. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  DeliveryAnswer,
  DeliveryList,
  DeliveryListQuery,
  IdParams,
} from '../../../contract/index.js';
import type { ServerOptions } from '../../options.js';
import { adminRoute } from './schema.js';

export const adminWebhookRoutes: FastifyPluginAsyncTypebox<ServerOptions> = async (
  app,
  options,
) => {
  const { webhooks } = options.payments;

  app.get(
    '/webhooks/deliveries',
    { schema: adminRoute({ querystring: DeliveryListQuery, response: { 200: DeliveryList } }) },
    async (request) => webhooks.list(request.query),
  );

  app.post(
    '/webhooks/deliveries/:id/replay',
    { schema: adminRoute({ params: IdParams, response: { 200: DeliveryAnswer } }) },
    async (request) => ({ delivery: await webhooks.replay(request.params.id) }),
  );
};

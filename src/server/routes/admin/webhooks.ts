/** Admin webhook deliveries (docs/http-api.md, docs/webhooks.md): list them, replay one. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@fastify/type-provider-typebox';
import type { ServerOptions } from '../../options.js';
import { DeliveryAnswer, DeliveryList, DeliveryListQuery, errorResponses } from '../../schemas.js';

const secured = [{ bearer: [] }];
const DeliveryIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

export const adminWebhookRoutes: FastifyPluginAsyncTypebox<ServerOptions> = async (
  app,
  options,
) => {
  const { payments } = options;

  app.get(
    '/webhooks/deliveries',
    {
      schema: {
        tags: ['admin'],
        security: secured,
        querystring: DeliveryListQuery,
        response: { 200: DeliveryList, ...errorResponses },
      },
    },
    async (request) =>
      payments.webhooks.list({
        status: request.query.status,
        eventId: request.query.eventId,
        limit: request.query.limit === undefined ? 50 : Number(request.query.limit),
        cursor: request.query.cursor,
      }),
  );

  app.post(
    '/webhooks/deliveries/:id/replay',
    {
      schema: {
        tags: ['admin'],
        security: secured,
        params: DeliveryIdParams,
        response: { 200: DeliveryAnswer, ...errorResponses },
      },
    },
    async (request) => ({ delivery: await payments.webhooks.replay(request.params.id) }),
  );
};

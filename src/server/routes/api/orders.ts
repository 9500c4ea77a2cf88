/**
 * A user's orders: checkout (with its Idempotency-Key), list, read (optionally asking WeChat
 * first), fresh payment parameters, cancel. Signed-in only (registered under the API's session
 * hook); the order actions are limited per user.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  CheckoutAnswer,
  CheckoutBody,
  IdParams,
  OrderAnswer,
  OrderList,
  OrderListQuery,
  OrderQuery,
  OrderShippingAnswer,
  PaymentAnswer,
} from '../../../contract/index.js';
import type { ServerOptions } from '../../options.js';
import { perUser } from '../../plugins/rate-limits.js';
import { userRoute } from './schema.js';

export const orderRoutes: FastifyPluginAsyncTypebox<ServerOptions> = async (app, options) => {
  const { checkout, orders } = options.payments;
  const limited = perUser(options.rateLimits.orderActionsPerMinute);

  app.post(
    '/api/v1/orders',
    {
      config: limited,
      schema: userRoute({ body: CheckoutBody, response: { 201: CheckoutAnswer } }),
    },
    async (request, reply) => {
      const key = request.headers['idempotency-key'];
      const { status, body } = await checkout.checkout(
        request.user!,
        { items: request.body.items, attach: request.body.attach ?? null },
        typeof key === 'string' ? key : undefined,
        request.ip,
      );
      // A replay answers with the status stored with the key: 201 too.
      return reply.code(status as 201).send(body);
    },
  );

  app.get(
    '/api/v1/orders',
    { schema: userRoute({ querystring: OrderListQuery, response: { 200: OrderList } }) },
    async (request) => {
      const limit = request.query.limit === undefined ? 20 : Number(request.query.limit);
      return orders.list(request.user!, limit, request.query.cursor);
    },
  );

  app.get(
    '/api/v1/orders/:id',
    {
      schema: userRoute({
        params: IdParams,
        querystring: OrderQuery,
        response: { 200: OrderAnswer },
      }),
    },
    async (request) => {
      const sync = request.query.sync === '1' || request.query.sync === 'true';
      return { order: await orders.get(request.user!, request.params.id, sync) };
    },
  );

  app.post(
    '/api/v1/orders/:id/payment',
    { config: limited, schema: userRoute({ params: IdParams, response: { 200: PaymentAnswer } }) },
    async (request) => orders.payment(request.user!, request.params.id),
  );

  app.post(
    '/api/v1/orders/:id/cancel',
    { config: limited, schema: userRoute({ params: IdParams, response: { 200: OrderAnswer } }) },
    async (request) => ({ order: await orders.cancel(request.user!, request.params.id) }),
  );

  app.get(
    '/api/v1/orders/:id/shipping',
    { schema: userRoute({ params: IdParams, response: { 200: OrderShippingAnswer } }) },
    async (request) => {
      const order = await orders.get(request.user!, request.params.id);
      const shipping = options.payments.shipping;
      return { shipping: shipping ? await shipping.forBuyer(order) : null };
    },
  );
};

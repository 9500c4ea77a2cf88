/** The mini program API, /api/v1 (docs/http-api.md). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ServerOptions } from '../../options.js';
import { perClientAddress, perUser } from '../../plugins/rate-limits.js';
import {
  CheckoutAnswer,
  CheckoutBody,
  errorResponses,
  ListQuery,
  LoginAnswer,
  LoginBody,
  LogoutAnswer,
  OrderAnswer,
  OrderIdParams,
  OrderList,
  OrderQuery,
  PaymentAnswer,
  ProductList,
} from '../../schemas.js';
import { bearer, requireUser } from '../auth.js';

const secured = [{ bearer: [] }];
const tags = ['mini program'];

export const apiRoutes: FastifyPluginAsyncTypebox<ServerOptions> = async (app, options) => {
  const { login, catalogue } = options.payments;

  app.post(
    '/api/v1/login',
    {
      config: perClientAddress(options.rateLimits.loginPerMinute),
      schema: { tags, body: LoginBody, response: { 200: LoginAnswer, ...errorResponses } },
    },
    async (request) => login.login(request.body.code),
  );

  app.get(
    '/api/v1/products',
    { schema: { tags, response: { 200: ProductList, ...errorResponses } } },
    async () => ({ products: await catalogue.list() }),
  );

  await app.register(userRoutes, options);
};

/**
 * The signed-in user's routes: the session is checked on onRequest (before the body is read),
 * so the per-user limits that follow know who is asking.
 */
const userRoutes: FastifyPluginAsyncTypebox<ServerOptions> = async (app, options) => {
  const { login, checkout, orders } = options.payments;
  const limited = perUser(options.rateLimits.orderActionsPerMinute);
  app.addHook('onRequest', async (request) => {
    await requireUser(request, login);
  });

  app.post(
    '/api/v1/logout',
    { schema: { tags, security: secured, response: { 200: LogoutAnswer, ...errorResponses } } },
    async (request) => ({ ok: await login.logout(bearer(request)!) }),
  );

  app.post(
    '/api/v1/orders',
    {
      config: limited,
      schema: {
        tags,
        security: secured,
        body: CheckoutBody,
        response: { 201: CheckoutAnswer, ...errorResponses },
      },
    },
    async (request, reply) => {
      const key = request.headers['idempotency-key'];
      const { status, body } = await checkout.checkout(
        request.user!,
        { items: request.body.items, attach: request.body.attach ?? null },
        typeof key === 'string' ? key : undefined,
        request.ip,
      );
      return reply.code(status).send(body);
    },
  );

  app.get(
    '/api/v1/orders',
    {
      schema: {
        tags,
        security: secured,
        querystring: ListQuery,
        response: { 200: OrderList, ...errorResponses },
      },
    },
    async (request) => {
      const limit = request.query.limit === undefined ? 20 : Number(request.query.limit);
      return orders.list(request.user!, limit, request.query.cursor);
    },
  );

  app.get(
    '/api/v1/orders/:id',
    {
      schema: {
        tags,
        security: secured,
        params: OrderIdParams,
        querystring: OrderQuery,
        response: { 200: OrderAnswer, ...errorResponses },
      },
    },
    async (request) => {
      const sync = request.query.sync === '1' || request.query.sync === 'true';
      return { order: await orders.get(request.user!, request.params.id, sync) };
    },
  );

  app.post(
    '/api/v1/orders/:id/payment',
    {
      config: limited,
      schema: {
        tags,
        security: secured,
        params: OrderIdParams,
        response: { 200: PaymentAnswer, ...errorResponses },
      },
    },
    async (request) => orders.payment(request.user!, request.params.id),
  );

  app.post(
    '/api/v1/orders/:id/cancel',
    {
      config: limited,
      schema: {
        tags,
        security: secured,
        params: OrderIdParams,
        response: { 200: OrderAnswer, ...errorResponses },
      },
    },
    async (request) => ({ order: await orders.cancel(request.user!, request.params.id) }),
  );
};

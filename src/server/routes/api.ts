/** The mini program API, /api/v1 (docs/http-api.md). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ServerOptions } from '../app.js';
import {
  CheckoutAnswer,
  CheckoutBody,
  errorResponses,
  ListQuery,
  LoginAnswer,
  LoginBody,
  OrderAnswer,
  OrderIdParams,
  OrderList,
  OrderQuery,
  PaymentAnswer,
  ProductList,
} from '../schemas.js';
import { requireUser } from './auth.js';

const secured = [{ bearer: [] }];

export const apiRoutes: FastifyPluginAsyncTypebox<ServerOptions> = async (app, { payments }) => {
  const { login, catalogue, checkout, orders } = payments;

  app.post(
    '/api/v1/login',
    {
      schema: {
        tags: ['mini program'],
        body: LoginBody,
        response: { 200: LoginAnswer, ...errorResponses },
      },
    },
    async (request) => login.login(request.body.code),
  );

  app.get(
    '/api/v1/products',
    { schema: { tags: ['mini program'], response: { 200: ProductList, ...errorResponses } } },
    async () => ({ products: await catalogue.list() }),
  );

  app.post(
    '/api/v1/orders',
    {
      schema: {
        tags: ['mini program'],
        security: secured,
        body: CheckoutBody,
        response: { 201: CheckoutAnswer, ...errorResponses },
      },
    },
    async (request, reply) => {
      const user = await requireUser(request, login);
      const key = request.headers['idempotency-key'];
      const { status, body } = await checkout.checkout(
        user,
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
        tags: ['mini program'],
        security: secured,
        querystring: ListQuery,
        response: { 200: OrderList, ...errorResponses },
      },
    },
    async (request) => {
      const user = await requireUser(request, login);
      const limit = request.query.limit === undefined ? 20 : Number(request.query.limit);
      return orders.list(user, limit, request.query.cursor);
    },
  );

  app.get(
    '/api/v1/orders/:id',
    {
      schema: {
        tags: ['mini program'],
        security: secured,
        params: OrderIdParams,
        querystring: OrderQuery,
        response: { 200: OrderAnswer, ...errorResponses },
      },
    },
    async (request) => {
      const user = await requireUser(request, login);
      const sync = request.query.sync === '1' || request.query.sync === 'true';
      return { order: await orders.get(user, request.params.id, sync) };
    },
  );

  app.post(
    '/api/v1/orders/:id/payment',
    {
      schema: {
        tags: ['mini program'],
        security: secured,
        params: OrderIdParams,
        response: { 200: PaymentAnswer, ...errorResponses },
      },
    },
    async (request) => {
      const user = await requireUser(request, login);
      return orders.payment(user, request.params.id);
    },
  );

  app.post(
    '/api/v1/orders/:id/cancel',
    {
      schema: {
        tags: ['mini program'],
        security: secured,
        params: OrderIdParams,
        response: { 200: OrderAnswer, ...errorResponses },
      },
    },
    async (request) => {
      const user = await requireUser(request, login);
      return { order: await orders.cancel(user, request.params.id) };
    },
  );
};

/**
 * Admin orders and events (docs/http-api.md "Admin API"): list with filters, one order with
 * its refunds and timeline, force an orderquery, close; the outbox events. Bearer
 * MINIPAY_ADMIN_TOKEN on every route; the queries live in src/payments.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  AdminEventList,
  AdminEventListQuery,
  AdminOrderAnswer,
  AdminOrderDetail,
  AdminOrderList,
  AdminOrderListQuery,
} from '../admin-schemas.js';
import type { ServerOptions } from '../app.js';
import { errorResponses, OrderIdParams } from '../schemas.js';
import { requireAdmin } from './auth.js';

const secured = [{ bearer: [] }];
const tags = ['admin'];

export const adminOrderRoutes: FastifyPluginAsyncTypebox<ServerOptions> = async (app, options) => {
  const { admin, adminActions } = options.payments;
  app.addHook('onRequest', async (request) => requireAdmin(request, options.adminToken));

  app.get(
    '/admin/v1/orders',
    {
      schema: {
        tags,
        security: secured,
        querystring: AdminOrderListQuery,
        response: { 200: AdminOrderList, ...errorResponses },
      },
    },
    async (request) => admin.listOrders(request.query),
  );

  app.get(
    '/admin/v1/orders/:id',
    {
      schema: {
        tags,
        security: secured,
        params: OrderIdParams,
        response: { 200: AdminOrderDetail, ...errorResponses },
      },
    },
    async (request) => admin.order(request.params.id),
  );

  app.post(
    '/admin/v1/orders/:id/sync',
    {
      schema: {
        tags,
        security: secured,
        params: OrderIdParams,
        response: { 200: AdminOrderAnswer, ...errorResponses },
      },
    },
    async (request) => ({ order: await adminActions.sync(request.params.id) }),
  );

  app.post(
    '/admin/v1/orders/:id/close',
    {
      schema: {
        tags,
        security: secured,
        params: OrderIdParams,
        response: { 200: AdminOrderAnswer, ...errorResponses },
      },
    },
    async (request) => ({ order: await adminActions.close(request.params.id) }),
  );

  app.get(
    '/admin/v1/events',
    {
      schema: {
        tags,
        security: secured,
        querystring: AdminEventListQuery,
        response: { 200: AdminEventList, ...errorResponses },
      },
    },
    async (request) => admin.listEvents(request.query),
  );
};

/**
 * Admin orders and events (docs/http-api.md "Admin API"): list with filters, one order with
 * its refunds and timeline, force an orderquery, close; the outbox events. The queries live
 * in src/payments.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  AdminEventList,
  AdminEventListQuery,
  AdminOrderAnswer,
  AdminOrderDetail,
  AdminOrderList,
  AdminOrderListQuery,
} from '../../admin-schemas.js';
import type { ServerOptions } from '../../options.js';
import { errorResponses, OrderIdParams } from '../../schemas.js';

const secured = [{ bearer: [] }];
const tags = ['admin'];

export const adminOrderRoutes: FastifyPluginAsyncTypebox<ServerOptions> = async (app, options) => {
  const { admin, adminActions } = options.payments;

  app.get(
    '/orders',
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
    '/orders/:id',
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
    '/orders/:id/sync',
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
    '/orders/:id/close',
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
    '/events',
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

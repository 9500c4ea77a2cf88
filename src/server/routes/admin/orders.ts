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
  IdParams,
} from '../../../contract/index.js';
import type { ServerOptions } from '../../options.js';
import { adminRoute } from './schema.js';

const orderAction = adminRoute({ params: IdParams, response: { 200: AdminOrderAnswer } });

export const adminOrderRoutes: FastifyPluginAsyncTypebox<ServerOptions> = async (app, options) => {
  const { admin, adminActions } = options.payments;

  app.get(
    '/orders',
    {
      schema: adminRoute({ querystring: AdminOrderListQuery, response: { 200: AdminOrderList } }),
    },
    async (request) => admin.listOrders(request.query),
  );

  app.get(
    '/orders/:id',
    { schema: adminRoute({ params: IdParams, response: { 200: AdminOrderDetail } }) },
    async (request) => admin.order(request.params.id),
  );

  app.post('/orders/:id/sync', { schema: orderAction }, async (request) => ({
    order: await adminActions.sync(request.params.id),
  }));

  app.post('/orders/:id/close', { schema: orderAction }, async (request) => ({
    order: await adminActions.close(request.params.id),
  }));

  app.get(
    '/events',
    {
      schema: adminRoute({ querystring: AdminEventListQuery, response: { 200: AdminEventList } }),
    },
    async (request) => admin.listEvents(request.query),
  );
};

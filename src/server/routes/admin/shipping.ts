/**
 * Admin shipping (docs/shipping.md): the orders awaiting shipment or whose upload failed, the
 * ship action (express with several parcels, same-city, pick-up), its one correction, a retry,
 * the reminder to
 * confirm receipt (notify_confirm_receive), WeChat's couriers, the check of WeChat's
 * unshipped orders against minipay (get_order_list),
 * its view of one order, and whether it manages this mini program's trades. Without the mini
 * program platform every route answers 503 `SHIPPING_OFF`.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  CourierList,
  IdParams,
  RemindReceiptAnswer,
  ShipBody,
  ShipmentAnswer,
  ShippingCheck,
  ShippingCheckQuery,
  ShippingQueue,
  ShippingQueueQuery,
  TradeManagement,
  WechatShippingView,
} from '../../../contract/index.js';
import type { Shipping } from '../../../payments/index.js';
import { DomainError } from '../../../payments/lib/errors.js';
import type { ServerOptions } from '../../options.js';
import { adminRoute } from './schema.js';

export const adminShippingRoutes: FastifyPluginAsyncTypebox<ServerOptions> = async (
  app,
  options,
) => {
  const shipping = (): Shipping => {
    const service = options.payments.shipping;
    if (!service) {
      throw new DomainError(
        503,
        'SHIPPING_OFF',
        'shipping is off: this server has no mini program AppID and AppSecret to call WeChat with',
      );
    }
    return service;
  };

  app.get(
    '/shipping',
    {
      schema: adminRoute({ querystring: ShippingQueueQuery, response: { 200: ShippingQueue } }),
    },
    async (request) => shipping().queue(request.query),
  );

  app.get(
    '/shipping/couriers',
    { schema: adminRoute({ response: { 200: CourierList } }) },
    async () => ({ couriers: await shipping().couriers() }),
  );

  app.get(
    '/shipping/check',
    {
      schema: adminRoute({ querystring: ShippingCheckQuery, response: { 200: ShippingCheck } }),
    },
    async (request) => shipping().check(Number(request.query.days ?? 7)),
  );

  app.get(
    '/shipping/trade-management',
    { schema: adminRoute({ response: { 200: TradeManagement } }) },
    async () => shipping().tradeManagement(),
  );

  app.get(
    '/orders/:id/shipment',
    { schema: adminRoute({ params: IdParams, response: { 200: ShipmentAnswer } }) },
    async (request) => {
      const shipment = await shipping().shipment(request.params.id);
      if (!shipment) {
        throw new DomainError(404, 'NOT_FOUND', 'this order has no shipment (it is not paid)');
      }
      return { shipment };
    },
  );

  app.get(
    '/orders/:id/shipment/wechat',
    { schema: adminRoute({ params: IdParams, response: { 200: WechatShippingView } }) },
    async (request) => shipping().wechatView(request.params.id),
  );

  app.post(
    '/orders/:id/ship',
    {
      schema: adminRoute({ params: IdParams, body: ShipBody, response: { 200: ShipmentAnswer } }),
    },
    async (request) => ({ shipment: await shipping().ship(request.params.id, request.body) }),
  );

  app.post(
    '/orders/:id/shipment/correct',
    {
      schema: adminRoute({ params: IdParams, body: ShipBody, response: { 200: ShipmentAnswer } }),
    },
    async (request) => ({ shipment: await shipping().correct(request.params.id, request.body) }),
  );

  app.post(
    '/orders/:id/shipment/retry',
    { schema: adminRoute({ params: IdParams, response: { 200: ShipmentAnswer } }) },
    async (request) => ({ shipment: await shipping().retry(request.params.id) }),
  );

  app.post(
    '/orders/:id/shipment/remind-receipt',
    { schema: adminRoute({ params: IdParams, response: { 200: RemindReceiptAnswer } }) },
    async (request) => ({
      ok: true as const,
      shipment: await shipping().remindReceipt(request.params.id, new Date()),
    }),
  );
};

/**
 * Admin message push (docs/shipping.md "Message push"): the pushes WeChat sent about one order
 * (settlement, shipping reminders), with what minipay did with each.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { IdParams, WechatPushList } from '../../../contract/index.js';
import type { ServerOptions } from '../../options.js';
import { adminRoute } from './schema.js';

export const adminPushRoutes: FastifyPluginAsyncTypebox<ServerOptions> = async (app, options) => {
  app.get(
    '/orders/:id/wechat-pushes',
    { schema: adminRoute({ params: IdParams, response: { 200: WechatPushList } }) },
    async (request) => ({ pushes: await options.payments.pushes.ofOrder(request.params.id) }),
  );
};

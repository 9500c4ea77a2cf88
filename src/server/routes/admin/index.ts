/**
 * The admin API (docs/http-api.md "Admin API"): ONE plugin, registered under the `/admin/v1`
 * prefix, whose `onRequest` hook checks the bearer MINIPAY_ADMIN_TOKEN on every request the
 * router gives it. The check does not look at the URL: whatever spelling of a path reaches an
 * admin route (percent-encoded letters included) reaches it through this hook. Every admin
 * route is registered below, inside this plugin. Requests whose token fails are counted per
 * client address; past the limit the hook answers 429 before looking at the token.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ServerOptions } from '../../options.js';
import { routeNotFound } from '../../plugins/errors.js';
import { tokenGate } from '../auth.js';
import { adminAnomalyRoutes } from './anomalies.js';
import { adminMessageRoutes } from './messages.js';
import { adminOrderRoutes } from './orders.js';
import { adminProductRoutes } from './products.js';
import { adminReconciliationRoutes } from './reconciliations.js';
import { adminRefundRoutes } from './refunds.js';
import { adminShippingRoutes } from './shipping.js';
import { adminStatsRoutes } from './stats.js';
import { adminWebhookRoutes } from './webhooks.js';
import { adminPushRoutes } from './wechat-pushes.js';

export const ADMIN_PREFIX = '/admin/v1';

/** The plugin for `app.register(adminApi(options), { prefix: ADMIN_PREFIX })`. */
export const adminApi =
  (options: ServerOptions): FastifyPluginAsyncTypebox =>
  async (app) => {
    app.addHook(
      'onRequest',
      tokenGate(
        app,
        options.adminToken,
        'MINIPAY_ADMIN_TOKEN',
        options.rateLimits.adminFailuresPerMinute,
      ),
    );
    // An unknown path under the prefix is refused like a known one: no token, no map of routes.
    app.setNotFoundHandler(routeNotFound);
    await app.register(adminProductRoutes, options);
    await app.register(adminOrderRoutes, options);
    await app.register(adminRefundRoutes, options);
    await app.register(adminAnomalyRoutes, options);
    await app.register(adminStatsRoutes, options);
    await app.register(adminWebhookRoutes, options);
    await app.register(adminShippingRoutes, options);
    await app.register(adminReconciliationRoutes, options);
    await app.register(adminMessageRoutes, options);
    await app.register(adminPushRoutes, options);
  };

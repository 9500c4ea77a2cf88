/** Admin stats (docs/http-api.md "Admin API"): paid and refunded totals per Beijing day. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { DailyStats, DailyStatsQuery } from '../../../contract/index.js';
import type { ServerOptions } from '../../options.js';
import { adminRoute } from './schema.js';

export const adminStatsRoutes: FastifyPluginAsyncTypebox<ServerOptions> = async (app, options) => {
  const { admin } = options.payments;

  app.get(
    '/stats/daily',
    { schema: adminRoute({ querystring: DailyStatsQuery, response: { 200: DailyStats } }) },
    async (request) => admin.dailyStats(request.query),
  );
};

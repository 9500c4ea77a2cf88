/** Admin stats (docs/http-api.md "Admin API"): paid and refunded totals per Beijing day. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { DailyStats, DailyStatsQuery } from '../../admin-schemas.js';
import type { ServerOptions } from '../../options.js';
import { errorResponses } from '../../schemas.js';

export const adminStatsRoutes: FastifyPluginAsyncTypebox<ServerOptions> = async (app, options) => {
  const { admin } = options.payments;

  app.get(
    '/stats/daily',
    {
      schema: {
        tags: ['admin'],
        security: [{ bearer: [] }],
        querystring: DailyStatsQuery,
        response: { 200: DailyStats, ...errorResponses },
      },
    },
    async (request) => admin.dailyStats(request.query),
  );
};

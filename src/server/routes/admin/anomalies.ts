/** Admin anomalies (docs/http-api.md "Admin API"): list, and resolve with a note. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  AnomalyAnswer,
  AnomalyIdParams,
  AnomalyList,
  AnomalyListQuery,
  ResolveBody,
} from '../../admin-schemas.js';
import type { ServerOptions } from '../../options.js';
import { errorResponses } from '../../schemas.js';

const secured = [{ bearer: [] }];
const tags = ['admin'];

export const adminAnomalyRoutes: FastifyPluginAsyncTypebox<ServerOptions> = async (
  app,
  options,
) => {
  const { admin, adminActions } = options.payments;

  app.get(
    '/anomalies',
    {
      schema: {
        tags,
        security: secured,
        querystring: AnomalyListQuery,
        response: { 200: AnomalyList, ...errorResponses },
      },
    },
    async (request) => admin.listAnomalies(request.query),
  );

  app.post(
    '/anomalies/:id/resolve',
    {
      schema: {
        tags,
        security: secured,
        params: AnomalyIdParams,
        body: ResolveBody,
        response: { 200: AnomalyAnswer, ...errorResponses },
      },
    },
    async (request) => ({
      anomaly: await adminActions.resolveAnomaly(request.params.id, request.body.note),
    }),
  );
};

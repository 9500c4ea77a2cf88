/** Admin anomalies (docs/http-api.md "Admin API"): list, and resolve with a note. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  AnomalyAnswer,
  AnomalyList,
  AnomalyListQuery,
  IdParams,
  ResolveBody,
} from '../../../contract/index.js';
import type { ServerOptions } from '../../options.js';
import { adminRoute } from './schema.js';

export const adminAnomalyRoutes: FastifyPluginAsyncTypebox<ServerOptions> = async (
  app,
  options,
) => {
  const { admin, adminActions } = options.payments;

  app.get(
    '/anomalies',
    { schema: adminRoute({ querystring: AnomalyListQuery, response: { 200: AnomalyList } }) },
    async (request) => admin.listAnomalies(request.query),
  );

  app.post(
    '/anomalies/:id/resolve',
    {
      schema: adminRoute({ params: IdParams, body: ResolveBody, response: { 200: AnomalyAnswer } }),
    },
    async (request) => ({
      anomaly: await adminActions.resolveAnomaly(request.params.id, request.body.note),
    }),
  );
};

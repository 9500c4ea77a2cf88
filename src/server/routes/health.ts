/**
 * /healthz (the process answers), /readyz (the database answers and no shutdown is under way),
 * /metrics (Prometheus, with
 * the bearer MINIPAY_METRICS_TOKEN: route names and counts say what the shop does).
 */
import type { FastifyPluginAsync } from 'fastify';
import type { ServerOptions } from '../options.js';
import { tokenGate } from './auth.js';

export const healthRoutes: FastifyPluginAsync<ServerOptions> = async (app, options) => {
  const { store, metrics } = options;
  app.get('/healthz', { schema: { tags: ['health'] } }, async () => ({ ok: true }));
  app.get('/readyz', { schema: { tags: ['health'] } }, async (_request, reply) => {
    if (options.readiness?.draining) {
      return reply.code(503).send({ ok: false, draining: true });
    }
    const database = await store.ping();
    return reply.code(database ? 200 : 503).send({ ok: database, database });
  });

  app.get(
    '/metrics',
    {
      schema: { tags: ['health'], security: [{ bearer: [] }] },
      onRequest: tokenGate(
        app,
        options.metricsToken,
        'MINIPAY_METRICS_TOKEN',
        options.rateLimits.adminFailuresPerMinute,
      ),
    },
    async (_request, reply) =>
      reply.type('text/plain; version=0.0.4; charset=utf-8').send(metrics.render()),
  );
};

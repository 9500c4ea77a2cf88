/** /healthz (the process answers), /readyz (the database answers), /metrics (Prometheus). */
import type { FastifyPluginAsync } from 'fastify';
import type { ServerOptions } from '../app.js';

export const healthRoutes: FastifyPluginAsync<ServerOptions> = async (app, { store, metrics }) => {
  app.get('/healthz', { schema: { tags: ['health'] } }, async () => ({ ok: true }));
  app.get('/readyz', { schema: { tags: ['health'] } }, async (_request, reply) => {
    const database = await store.ping();
    return reply.code(database ? 200 : 503).send({ ok: database, database });
  });
  app.get('/metrics', { schema: { tags: ['health'] } }, async (_request, reply) =>
    reply.type('text/plain; version=0.0.4; charset=utf-8').send(metrics.render()),
  );
};

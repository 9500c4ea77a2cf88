/**
 * Headers on every answer: the request id (for log correlation), and no caching or sniffing:
 * answers carry orders, tokens and payment parameters, never to be stored by a browser or a
 * proxy nor read as another type. The web pages' static files set their own caching.
 */
import type { FastifyInstance } from 'fastify';

export function securityHeaders(app: FastifyInstance): void {
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    reply.header('cache-control', 'no-store');
    reply.header('x-content-type-options', 'nosniff');
  });
}

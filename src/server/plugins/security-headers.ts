/**
 * Headers on every answer: the request id (for log correlation), and no caching or sniffing:
 * answers carry orders, tokens and payment parameters, never to be stored by a browser or a
 * proxy nor read as another type. The web pages' static files set their own caching.
 */
import type { FastifyInstance } from 'fastify';

export function securityHeaders(app: FastifyInstance): void {
  // A callback hook, not an async one: every request runs it, and a promise per hook shows.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    reply.header('cache-control', 'no-store');
    reply.header('x-content-type-options', 'nosniff');
    done();
  });
}

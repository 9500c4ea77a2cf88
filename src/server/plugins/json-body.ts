/**
 * JSON bodies with Fastify's own parser (prototype poisoning refused), except that an empty
 * body is no body: a POST without one (cancel, sync) is not a "bad JSON" 400.
 */
import type { FastifyInstance } from 'fastify';

export function jsonBody(app: FastifyInstance): void {
  const jsonParser = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') return done(null, undefined);
    jsonParser(request, body as string, done);
  });
}

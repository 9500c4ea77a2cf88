/**
 * One log line per request, written when it is answered (Fastify's own two lines are off), with
 * the URL's query redacted and whatever the route added (`request.logDetail`), and the request
 * counter of /metrics. Request ids: the caller's `X-Request-Id` when it is sane, else this
 * process's random tag and a counter (`9f3a1c07e2-1a`), unique across restarts and instances
 * and cheaper than a UUID per request (BENCHMARKS.md, "Notify throughput").
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, RawRequestDefaultExpression } from 'fastify';
import { redactUrl } from '../../payments/lib/url-redaction.js';
import type { Metrics } from '../metrics.js';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;
const PROCESS_TAG = randomBytes(5).toString('hex');
let requests = 0;

/** Fastify's `genReqId`. */
export function requestId(req: RawRequestDefaultExpression): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given)
    ? given
    : `${PROCESS_TAG}-${(++requests).toString(36)}`;
}

export function requestLog(app: FastifyInstance, metrics: Metrics): void {
  app.decorateRequest('logDetail', null);
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.inc('minipay_http_requests_total', {
      method: request.method,
      route,
      status: String(reply.statusCode),
    });
    request.log.info(
      {
        method: request.method,
        url: redactUrl(request.url),
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
        ...request.logDetail,
      },
      'request',
    );
    done();
  });
}

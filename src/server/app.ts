/**
 * The merchant server: a Fastify app over the payments domain. `buildServer()` returns it
 * ready to `listen()`; it owns no background work (see src/jobs) and no process signals.
 */
import { randomBytes } from 'node:crypto';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { SessionUser } from '../payments/index.js';
import { redactUrl } from '../payments/lib/url-redaction.js';
import type { ServerOptions } from './options.js';
import { sendError } from './plugins/errors.js';
import { registerRateLimit } from './plugins/rate-limits.js';
import { ADMIN_PREFIX, adminApi } from './routes/admin/index.js';
import { apiRoutes } from './routes/api/index.js';
import { healthRoutes } from './routes/health.js';
import { notifyRoutes } from './routes/wechatpay/notify.js';
import {
  AdminOrder,
  Anomaly,
  Delivery,
  ErrorBody,
  Order,
  PaymentParams,
  Product,
  Refund,
} from './schemas.js';

declare module 'fastify' {
  interface FastifyRequest {
    user: SessionUser | null;
    /** Fields a route adds to the request's one log line (e.g. a notify's outcome). */
    logDetail: Record<string, unknown> | null;
  }
}

/** Body limit of every JSON route (the notify route has its own, 64 KiB). */
export const JSON_BODY_LIMIT = 16 * 1024;
/**
 * The longest a client may take to send a whole request, headers and body, from its first byte
 * (or from connecting): Node answers 408 and closes. Fastify's default, 0, switches Node's own
 * limit off, so a body sent one byte at a time would hold its socket forever.
 */
export const REQUEST_TIMEOUT_MS = 30_000;
/** How long an idle keep-alive connection stays open (Fastify's default was 72 s). */
export const KEEP_ALIVE_TIMEOUT_MS = 30_000;
/** How often Node looks for requests past their deadline (its default, 30 s, let one live 60 s). */
const DEADLINE_CHECK_MS = 1000;
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;
/**
 * Request ids: this process's random tag and a counter (`9f3a1c07e2-1a`), unique across restarts
 * and instances for log correlation; a UUID per request was 1.4 % of a notify's CPU.
 */
const PROCESS_TAG = randomBytes(5).toString('hex');
let requests = 0;
const nextRequestId = () => `${PROCESS_TAG}-${(++requests).toString(36)}`;

export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const { requestMs, keepAliveMs } = options.timeouts ?? {
    requestMs: REQUEST_TIMEOUT_MS,
    keepAliveMs: KEEP_ALIVE_TIMEOUT_MS,
  };
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    bodyLimit: JSON_BODY_LIMIT,
    requestTimeout: requestMs,
    keepAliveTimeout: keepAliveMs,
    http: {
      // Headers count against the same deadline (Node's default gave them 60 s).
      headersTimeout: requestMs,
      requestTimeout: requestMs,
      connectionsCheckingInterval: DEADLINE_CHECK_MS,
    },
    trustProxy: options.trustProxy ?? false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : nextRequestId();
    },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    return503OnClosing: true,
    // One line per request, written when it is answered (below), instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    // 'idle': close() ends idle keep-alive sockets at once and waits for requests in flight
    // (false made a shutdown wait out the keep-alive of every idle client).
    forceCloseConnections: 'idle',
  }).withTypeProvider<TypeBoxTypeProvider>();

  if (options.onRoute) app.addHook('onRoute', options.onRoute);
  app.decorateRequest('user', null);
  app.decorateRequest('logDetail', null);
  // Shutting down: answers still in flight close their connection, so close() need not wait
  // for those clients' keep-alive to run out.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (_request, reply) => {
    if (closing) reply.header('connection', 'close');
  });
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    // Answers carry orders, tokens and payment parameters: never stored by a browser or a
    // proxy, never sniffed as another type. The web pages' static files set their own caching.
    reply.header('cache-control', 'no-store');
    reply.header('x-content-type-options', 'nosniff');
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    options.metrics.inc('minipay_http_requests_total', {
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
  });

  const jsonParser = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') return done(null, undefined);
    jsonParser(request, body as string, done);
  });

  for (const schema of [
    ErrorBody,
    Product,
    Order,
    AdminOrder,
    PaymentParams,
    Refund,
    Anomaly,
    Delivery,
  ])
    app.addSchema(schema);
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'minipay',
        version: '1',
        description:
          'WeChat Mini Program payments: the mini program API, WeChat callbacks and the admin API.',
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      },
    },
  });

  await registerRateLimit(app);
  app.setErrorHandler((err, request, reply) => sendError(request, reply, err as Error));
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({
      error: {
        code: 'NOT_FOUND',
        message: `no route ${request.method} ${request.url.split('?')[0]}`,
      },
    }),
  );

  await app.register(healthRoutes, options);
  await app.register(apiRoutes, options);
  await app.register(notifyRoutes, options);
  await app.register(adminApi(options), { prefix: ADMIN_PREFIX });
  for (const plugin of options.plugins ?? []) await app.register(plugin);

  const openapi = async () => app.swagger();
  app.get('/openapi.json', { schema: { hide: true } }, openapi);
  app.get('/docs/openapi.json', { schema: { hide: true } }, openapi);
  return app;
}

export type App = Awaited<ReturnType<typeof buildServer>>;

/**
 * The merchant server: a Fastify app over the payments domain. `buildServer()` returns it
 * ready to `listen()`; it owns no background work (see src/jobs) and no process signals.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { SessionUser } from '../payments/index.js';
import type { ServerOptions } from './options.js';
import { errorAnswers, sendError } from './plugins/errors.js';
import { jsonBody } from './plugins/json-body.js';
import { openApi, openApiRoutes } from './plugins/openapi.js';
import { registerRateLimit } from './plugins/rate-limits.js';
import { requestId, requestLog } from './plugins/request-log.js';
import { securityHeaders } from './plugins/security-headers.js';
import { ADMIN_PREFIX, adminApi } from './routes/admin/index.js';
import { apiRoutes } from './routes/api/index.js';
import { healthRoutes } from './routes/health.js';
import { wechatEventRoutes } from './routes/wechat/events.js';
import { notifyRoutes } from './routes/wechatpay/notify.js';

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
    genReqId: requestId,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    return503OnClosing: true,
    // One line per request, written when it is answered (plugins/request-log.ts).
    logController: new LogController({ disableRequestLogging: true }),
    // 'idle': close() ends idle keep-alive sockets at once and waits for requests in flight
    // (false made a shutdown wait out the keep-alive of every idle client).
    forceCloseConnections: 'idle',
    // A URL the router refuses (bad percent-encoding, a path part too long) answers `{ error }`.
    frameworkErrors: (err, request, reply) => sendError(request, reply, err),
  }).withTypeProvider<TypeBoxTypeProvider>();

  if (options.onRoute) app.addHook('onRoute', options.onRoute);
  app.decorateRequest('user', null);
  // Draining or shutting down: answers close their connection, so clients and proxies open
  // their next one elsewhere and close() need not wait for their keep-alive to run out.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing || options.readiness?.draining) reply.header('connection', 'close');
    done(null, payload);
  });
  securityHeaders(app);
  requestLog(app, options.metrics);
  jsonBody(app);
  await openApi(app);
  await registerRateLimit(app);
  errorAnswers(app);

  await app.register(healthRoutes, options);
  await app.register(apiRoutes, options);
  await app.register(notifyRoutes, options);
  await app.register(wechatEventRoutes, options);
  await app.register(adminApi(options), { prefix: ADMIN_PREFIX });
  for (const plugin of options.plugins ?? []) await app.register(plugin);

  openApiRoutes(app);
  return app;
}

export type App = Awaited<ReturnType<typeof buildServer>>;

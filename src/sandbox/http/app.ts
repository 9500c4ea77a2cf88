/**
 * The sandbox's HTTP server: one Fastify app serving the api.weixin.qq.com paths, the
 * api.mch.weixin.qq.com paths and the sandbox's own API, so a merchant points both of its
 * WeChat base URLs at the same address. A second app over the same engine plays the backup
 * domain (api2.mch.weixin.qq.com) when `backupPort` is given.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { SandboxEngine } from '../engine.js';
import { SANDBOX_API_MAX_BODY_BYTES } from './api-errors.js';
import { HeldSockets } from './held-sockets.js';
import { platformRoutes } from './platform-routes.js';
import { sandboxRoutes } from './sandbox-routes.js';
import { v3Routes } from './v3-routes.js';
import { type DomainRole, failDomain, wechatRoutes } from './wechat-routes.js';

/** The api.weixin.qq.com paths (login, access_token, shipping, messages). */
const WECHAT_API_PATH = /^\/(sns|cgi-bin|wxa)\//;

/** Requests must arrive whole within this (a slow-loris guard; WeChat clients send at once). */
const REQUEST_TIMEOUT_MS = 30_000;

export interface SandboxApp {
  app: FastifyInstance;
  held: HeldSockets;
}

/** HTTPS settings: the server's certificate, and the CA that signs merchant client certificates. */
export interface SandboxTls {
  cert: string | Buffer;
  key: string | Buffer;
  /** When given, `/secapi/pay/refund` requires a client certificate signed by this CA. */
  clientCa?: string | Buffer;
}

export function buildSandboxApp(
  engine: SandboxEngine,
  logger: FastifyBaseLogger,
  tls?: SandboxTls,
  role: DomainRole = 'primary',
): SandboxApp {
  const held = new HeldSockets();
  const https = tls && {
    cert: tls.cert,
    key: tls.key,
    ...(tls.clientCa
      ? // Asked for on every connection, required only on the refund path (checked there),
        // as WeChat requires the merchant certificate only for /secapi paths.
        { ca: tls.clientCa, requestCert: true, rejectUnauthorized: false }
      : {}),
  };
  const app = Fastify({
    ...(https ? { https } : {}),
    loggerInstance: logger,
    // Fastify's request log would print query strings, and jscode2session carries the
    // AppSecret there: log our own line with the path only.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: SANDBOX_API_MAX_BODY_BYTES,
    // The sandbox API's schemas (api-schemas.ts) validate, never rewrite: no coercion, no
    // silent removal; `verbose` gives api-errors.ts the field's description for its message.
    ajv: {
      customOptions: {
        removeAdditional: false,
        coerceTypes: false,
        allErrors: false,
        verbose: true,
      },
    },
    requestTimeout: REQUEST_TIMEOUT_MS,
    forceCloseConnections: true,
    return503OnClosing: true,
  });
  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      {
        method: request.method,
        path: request.url.split('?')[0],
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      'sandbox request',
    );
  });
  if (role === 'primary') {
    // The main address also plays api.weixin.qq.com; its own fault takes those paths down.
    app.addHook('onRequest', async (request, reply) => {
      const down = engine.core.faults.faults.primaryApiDomainFailure;
      if (down === 'none' || !WECHAT_API_PATH.test(request.url)) return;
      return failDomain(down, reply, held, engine, 'primaryApiDomainFailure');
    });
  }
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({
      error: {
        code: 'NOT_FOUND',
        message: `the sandbox has no ${request.method} ${request.url.split('?')[0]}; see docs/sandbox.md for its paths`,
      },
    }),
  );
  void app.register(wechatRoutes, {
    engine,
    held,
    requireClientCert: Boolean(tls?.clientCa),
    role,
  });
  void app.register(v3Routes, { engine, held, role });
  void app.register(platformRoutes, { engine, held });
  void app.register(sandboxRoutes, { engine });
  // One app type for both: the https server differs only in how it was created.
  return { app: app as unknown as FastifyInstance, held };
}
